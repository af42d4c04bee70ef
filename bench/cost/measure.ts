/**
 * The measurements the cost model prices, all taken from the real code on the metered stack:
 * - turns: conversations of `earlierTurns` completed turns are seeded through POST /chat at a fast token
 *   rate (not measured), then each measured turn is one more streamed POST /chat in such a conversation,
 *   sequential like the turns of one Lambda environment, with fresh fleet views before each;
 * - a window opening: the user's first turn, whose quota grant opens the window (its byLeases entry is
 *   written then, and by no later turn of the window);
 * - the heartbeat: one shard's worker (the real handler) ticking for `heartbeatSeconds`;
 * - the sweeper: one scheduled invocation of its handler.
 */
import type { Context } from 'aws-lambda';
import { backgroundFunction } from '../../local/background/definitions';
import { createLambdaContext } from '../../local/gateway/lambda-context';
import { loadHandler } from '../../local/handlers';
import { sendTurn, type TurnResponse } from './client';
import type { LogMeter, MeteredLine } from './log-meter';
import type { InvocationRecord, MeteredStack } from './metered-stack';
import { promptText, type Scenario } from './scenario';
import type { MeteredCall } from './sdk-meter';

/** The seeded conversations' answers come this fast: seeding is setup, not measured. */
export const SEED_TOKENS_PER_SECOND = 20_000;

export interface PhaseSample {
  readonly calls: readonly MeteredCall[];
  readonly lines: readonly MeteredLine[];
  readonly durationMs: number;
}

export interface TurnSample extends PhaseSample {
  readonly startedAtEpochMs: number;
  readonly response: TurnResponse;
  readonly invocation: InvocationRecord;
}

export interface Measurement {
  readonly scenario: Scenario;
  readonly turns: readonly TurnSample[];
  /** The user's first turn, which opened the quota window the measured turns are granted in. */
  readonly windowOpening: PhaseSample;
  readonly heartbeat: PhaseSample & { readonly ticks: number; readonly shards: number };
  readonly sweeper: PhaseSample;
  /** Calls and lines outside every phase: should be none (else something runs on its own). */
  readonly unattributed: { readonly calls: number; readonly lines: number };
}

/** A free-tier user: most turns are free tier. */
export const USER = 'alice@example.com';

function sample(stack: MeteredStack, phase: string, durationMs: number): PhaseSample {
  return { calls: stack.sdk.callsIn(phase), lines: stack.logs.linesIn(phase), durationMs };
}

export function setSpeed(stack: MeteredStack, tokensPerSecond: number, timeToFirstTokenMs: number): void {
  for (const server of stack.stack.fleet?.servers ?? []) {
    server.handle.setOptions({ tokensPerSecond, timeToFirstTokenMs });
  }
}

/** A conversation of `earlierTurns` completed turns, through POST /chat (phase: the caller's). */
export async function seedConversation(stack: MeteredStack, token: string, scenario: Scenario, n: number) {
  let conversationId: string | undefined;
  for (let i = 0; i < scenario.earlierTurns; i++) {
    const prompt = promptText(scenario.promptChars, 1000 * (n + 1) + i);
    const response = await sendTurn(stack.stack.url, token, {
      prompt,
      ...(conversationId ? { conversationId } : {}),
    });
    conversationId = response.conversationId;
  }
  if (!conversationId) throw new Error('A conversation needs at least one earlier turn');
  return conversationId;
}

/** One measured turn (phase `turn-<n>`): a streamed POST /chat continuing `conversationId`. */
export async function measureTurn(
  stack: MeteredStack,
  token: string,
  scenario: Scenario,
  conversationId: string,
  n: number,
): Promise<TurnSample> {
  const phase = `turn-${n}`;
  const startedAt = performance.now();
  const startedAtEpochMs = Date.now();
  const { response, invocation } = await stack.phase(phase, async () => {
    const answered = await sendTurn(stack.stack.url, token, {
      prompt: promptText(scenario.promptChars, n),
      conversationId,
    });
    return { response: answered, invocation: await stack.invocation(answered.requestId) };
  });
  if (response.endStatus !== 'completed') throw new Error(`Turn ${n} ended ${response.endStatus}`);
  return { ...sample(stack, phase, performance.now() - startedAt), startedAtEpochMs, response, invocation };
}

export async function measure(stack: MeteredStack, scenario: Scenario, progress: LogMeter['print']) {
  const token = await stack.login(USER);
  await stack.phase('setup', () => stack.refreshViews());

  setSpeed(stack, SEED_TOKENS_PER_SECOND, 0);
  const openingStartedAt = performance.now();
  await stack.phase('window-opening', () =>
    sendTurn(stack.stack.url, token, { prompt: promptText(scenario.promptChars, 999_999) }),
  );
  const windowOpening = sample(stack, 'window-opening', performance.now() - openingStartedAt);
  const conversations = await stack.phase('seed', () =>
    Promise.all(
      Array.from({ length: scenario.turns }, (_, n) => seedConversation(stack, token, scenario, n)),
    ),
  );
  setSpeed(stack, scenario.tokensPerSecond, scenario.timeToFirstTokenMs);
  progress(`seeded ${conversations.length} conversations of ${scenario.earlierTurns} turns\n`);

  const turns: TurnSample[] = [];
  for (const [n, conversationId] of conversations.entries()) {
    await stack.phase('setup', () => stack.refreshViews());
    const turn = await measureTurn(stack, token, scenario, conversationId, n);
    turns.push(turn);
    progress(`turn ${n + 1}/${scenario.turns}: ${turn.invocation.durationMs} ms\n`);
  }

  const heartbeatStartedAt = performance.now();
  const run = (await stack.phase('heartbeat', () =>
    stack.invokeHeartbeat(0, scenario.heartbeatSeconds * 1000),
  )) as { ticks?: number };
  const heartbeat = {
    ...sample(stack, 'heartbeat', performance.now() - heartbeatStartedAt),
    ticks: run.ticks ?? 0,
    shards: stack.settings.fleetShards,
  };

  const sweep = backgroundFunction('SweepTurns');
  const sweepHandler = (await loadHandler(sweep.entry)) as (
    event: unknown,
    context: Context,
  ) => Promise<unknown>;
  const sweepStartedAt = performance.now();
  await stack.phase('sweeper', () =>
    sweepHandler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, createLambdaContext(sweep)),
  );
  const sweeper = sample(stack, 'sweeper', performance.now() - sweepStartedAt);

  return {
    scenario,
    turns,
    windowOpening,
    heartbeat,
    sweeper,
    unattributed: { calls: stack.sdk.callsIn('idle').length, lines: stack.logs.linesIn('idle').length },
  } satisfies Measurement;
}
