/**
 * The must-show fault cases, one at a time, on one local stack whose DynamoDB, inference fleet and
 * process the test controls from outside (support/environment.ts). Answers stream slowly enough
 * (40 tokens/s, 60 tokens) that "mid-stream" is a long, unambiguous moment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../support/fault-proxy';
import { type Attempt, chatAttempt } from './support/client';
import { type FaultEnvironment, parkedWrites, startFaultEnvironment } from './support/environment';

const ANSWER_TOKENS = 60;
const IDLE_TIMEOUT_MS = 1_500;

let env: FaultEnvironment;
let promptCounter = 0;

/** A prompt no other test uses, so its turn is found in the table by its text. */
function uniquePrompt(topic: string): string {
  promptCounter++;
  return `Focused case ${promptCounter}: explain ${topic} with examples`;
}

const attemptFor = (prompt: string, extra: Partial<Parameters<typeof chatAttempt>[0]> = {}) =>
  chatAttempt({ baseUrl: env.url(), token: env.token('bob'), prompt, ...extra });

const fleetStats = () => env.fleet.servers.map((server) => server.handle.stats());
const totalAborted = () => fleetStats().reduce((sum, stats) => sum + stats.aborted, 0);

/** The server streaming right now (exactly one is expected to be). */
function busyServer() {
  const busy = env.fleet.servers.filter((server) => server.handle.stats().running > 0);
  expect(busy).toHaveLength(1);
  const [server] = busy;
  if (!server) throw new Error('no busy server');
  return server;
}

/** The SDK's DynamoDB client makes 4 attempts: refuse them all. */
const SDK_ATTEMPTS = 4;

/** Throttles every attempt at the next in_progress write (the only PutItem of an in_progress turn). */
function failStartWrite(): void {
  env.proxy.failNext({
    kind: 'throttle',
    operation: 'PutItem',
    bodyIncludes: '"in_progress"',
    count: SDK_ATTEMPTS,
  });
}

const isFinal = (turn: { status: string } | undefined) => turn !== undefined && turn.status !== 'in_progress';

async function turnsFor(prompt: string) {
  return (await env.scanTurns()).filter((turn) => turn.userMessage === prompt);
}

function messageIdOf(attempt: Attempt): string {
  expect(attempt.messageId).toEqual(expect.any(String));
  return attempt.messageId ?? '';
}

/** Waits until no server streams (so the next case starts on an idle fleet) and the heartbeat saw it. */
async function fleetIdle(): Promise<void> {
  for (let i = 0; i < 100 && fleetStats().some((stats) => stats.running + stats.waiting > 0); i++) {
    await sleep(50);
  }
  await sleep(1_200);
}

beforeAll(async () => {
  env = await startFaultEnvironment({
    fleet: {
      count: 2,
      slots: 8,
      // Three sequences per server count as full: a burst of a few prompts fills the fleet.
      capacity: 3,
      tokensPerSecond: 40,
      answerTokens: ANSWER_TOKENS,
      timeToFirstTokenMs: 50,
    },
    // These tests act after a number of content events, counted as tokens: one SSE frame per chunk.
    stackEnv: { INFERENCE_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS), SSE_FLUSH_MS: '0' },
  });
});

afterAll(async () => {
  await env?.close();
});

describe('a client that disconnects halfway', () => {
  it('still gets the whole answer stored as completed', async () => {
    const prompt = uniquePrompt('durable streaming');
    const completedBefore = fleetStats().reduce((sum, stats) => sum + stats.completed, 0);
    const attempt = await attemptFor(prompt, { disconnectAfter: ANSWER_TOKENS / 2 });
    expect(attempt.disconnected).toBe(true);
    expect(attempt.contentEvents).toBe(ANSWER_TOKENS / 2);
    const expected = env.expectedAnswer(prompt);
    expect(expected.startsWith(attempt.content)).toBe(true);

    const turn = await env.waitForTurn(messageIdOf(attempt), isFinal, 15_000);
    expect(turn).toMatchObject({
      status: 'completed',
      assistantResponse: expected,
      finishReason: 'stop',
      completionTokens: ANSWER_TOKENS,
    });
    // The generation ran to its end: the disconnect did not reach the inference server.
    expect(fleetStats().reduce((sum, stats) => sum + stats.completed, 0)).toBe(completedBefore + 1);
  });
});

describe('a stop mid-stream', () => {
  it('ends the turn stopped with its partial text, noticed long before the answer would end', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('cooperative cancellation');
    const abortedBefore = totalAborted();
    const attempt = await attemptFor(prompt, { stopAfter: 5 });
    const stop = attempt.stop;
    expect(stop?.status).toBe(200);
    expect(attempt.end).toMatchObject({ status: 'stopped', stored: true, finishReason: 'stop_requested' });
    expect(attempt.sawDone).toBe(true);

    // Order, not time: the stream ended with fewer content events after the stop than were left to come.
    const atStop = stop?.contentEventsAtAnswer ?? Number.POSITIVE_INFINITY;
    const afterStop = attempt.contentEvents - atStop;
    expect(afterStop).toBeGreaterThanOrEqual(0);
    expect(afterStop).toBeLessThan(ANSWER_TOKENS - atStop);
    expect(attempt.contentEvents).toBeLessThan(ANSWER_TOKENS);

    const turn = await env.waitForTurn(messageIdOf(attempt), isFinal);
    expect(turn?.status).toBe('stopped');
    expect(turn?.assistantResponse).toBe(attempt.content);
    const expected = env.expectedAnswer(prompt);
    expect(expected.startsWith(turn?.assistantResponse ?? '-')).toBe(true);
    expect(turn?.assistantResponse.length).toBeLessThan(expected.length);

    // The upstream request was cancelled: the simulated server counted the client going away.
    for (let i = 0; i < 40 && totalAborted() === abortedBefore; i++) await sleep(50);
    expect(totalAborted()).toBe(abortedBefore + 1);
  });
});

describe("a stop while DynamoDB refuses the turn's in_progress write", () => {
  it('still stops the turn the client is streaming', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('early stops');
    // All SDK attempts at the in_progress write are throttled: the answer streams (by design, the final
    // write will create the turn), but the turn item is not in the table while it streams.
    failStartWrite();
    const attempt = await attemptFor(prompt, { stopAfter: 5 });
    const turn = await env.waitForTurn(messageIdOf(attempt), isFinal);
    // Today: POST /chat/stop answers 404 "No turn of yours has this message_id" for the turn being
    // streamed to this very client, and the answer runs to the end (completed).
    expect({ stop: attempt.stop?.status, end: attempt.end?.status, table: turn?.status }).toEqual({
      stop: 200,
      end: 'stopped',
      table: 'stopped',
    });
  });
});

describe('an inference server that dies mid-stream', () => {
  it('fails the turn with an error event and keeps the partial text on a failed turn, never completed', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('hardware failures');
    let killing: Promise<void> | undefined;
    let killedServer: (typeof env.fleet.servers)[number] | undefined;
    const attempt = await attemptFor(prompt, {
      onEvent: (_event, seen) => {
        if (seen.contentEvents === 10 && !killing) {
          killedServer = busyServer();
          killing = killedServer.handle.kill();
        }
      },
    });
    await killing;
    expect(killedServer?.handle.stats().killed).toBe(1);
    expect(attempt.errorCode).toBe('upstream_error');
    expect(attempt.end).toBeUndefined();
    expect(attempt.contentEvents).toBeGreaterThanOrEqual(10);
    expect(attempt.contentEvents).toBeLessThan(ANSWER_TOKENS);

    const turn = await env.waitForTurn(messageIdOf(attempt), isFinal);
    expect(turn).toMatchObject({ status: 'failed', errorCode: 'upstream_error' });
    expect(turn?.assistantResponse).toBe(attempt.content);
    expect(env.expectedAnswer(prompt).startsWith(turn?.assistantResponse ?? '-')).toBe(true);

    // Back on its port, it serves again (the heartbeat notices within a few seconds).
    await killedServer?.handle.restart();
    await fleetIdle();
    await sleep(2_000);
    const next = uniquePrompt('recovery after a crash');
    const after = await attemptFor(next);
    expect(after.end).toMatchObject({ status: 'completed', stored: true });
    expect(after.content).toBe(env.expectedAnswer(next));
  });
});

describe('a stalled inference server', () => {
  it('fails a stream silent for longer than the idle time-out, and lets a shorter stall finish', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('silent servers');
    let stalled = false;
    const attempt = await attemptFor(prompt, {
      onEvent: (_event, seen) => {
        if (seen.contentEvents === 10 && !stalled) {
          stalled = true;
          busyServer().handle.stall(IDLE_TIMEOUT_MS * 3);
        }
      },
    });
    expect(attempt.errorCode).toBe('upstream_timeout');
    const turn = await env.waitForTurn(messageIdOf(attempt), isFinal);
    expect(turn).toMatchObject({ status: 'failed', errorCode: 'upstream_timeout' });
    expect(turn?.assistantResponse).toBe(attempt.content);
    for (const server of env.fleet.servers) server.handle.stall(false);

    await fleetIdle();
    const short = uniquePrompt('brief pauses');
    let paused = false;
    const ok = await attemptFor(short, {
      onEvent: (_event, seen) => {
        if (seen.contentEvents === 10 && !paused) {
          paused = true;
          busyServer().handle.stall(IDLE_TIMEOUT_MS / 3);
        }
      },
    });
    expect(ok.end).toMatchObject({ status: 'completed', stored: true });
    expect(ok.content).toBe(env.expectedAnswer(short));
  });
});

describe('a DynamoDB that refuses every write of the chat table', () => {
  it('parks the final write on SQS (stored: false) and the persister applies it once the table heals', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('write buffering');
    const before = env.proxy.stats();
    env.proxy.setRates({ throttle: 0.5, serverError: 0.5, tables: ['ChatTable'] });
    const attempt = await attemptFor(prompt);
    // While it still refuses: the client was told the answer is not stored yet, and the table has no turn.
    expect(attempt.end).toMatchObject({ status: 'completed', stored: false, finishReason: 'stop' });
    expect(attempt.content).toBe(env.expectedAnswer(prompt));
    const id = messageIdOf(attempt);
    const meanwhile = (await env.scanTurns()).find((turn) => turn.id === id);
    expect(meanwhile === undefined || meanwhile.status === 'in_progress').toBe(true);
    const refused = env.proxy.stats();
    expect(refused.refusedByOperation.UpdateItem ?? 0).toBeGreaterThan(
      before.refusedByOperation.UpdateItem ?? 0,
    );

    env.proxy.setRates(NO_FAULTS);
    // A persister attempt that met the refusal comes back after the queue's visibility time-out (60 s).
    const turn = await env.waitForTurn(id, isFinal, 75_000);
    expect(turn).toMatchObject({
      status: 'completed',
      assistantResponse: env.expectedAnswer(prompt),
      finishReason: 'stop',
      completionTokens: ANSWER_TOKENS,
    });
    const { parked, applied } = parkedWrites(env.output());
    expect(parked.has(id)).toBe(true);
    expect(applied.has(id)).toBe(true);
  });
});

describe('Idempotency-Key retries', () => {
  it('concurrent duplicates make one turn; a later retry replays it', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('exactly once');
    const key = `focused-dup-${Date.now()}`;
    const attempts = await Promise.all(
      [0, 1, 2].map((index) => attemptFor(prompt, { key, label: `dup-${index}` })),
    );
    const answered = attempts.filter((attempt) => attempt.status === 200);
    expect(answered.length).toBeGreaterThanOrEqual(1);
    for (const attempt of attempts) {
      // Each is either the answer, its replay, or told that the first is still being answered.
      if (attempt.status !== 200) expect([attempt.status, attempt.errorCode]).toEqual([409, 'in_progress']);
    }
    const ids = new Set(attempts.map((attempt) => attempt.messageId));
    expect(ids.size).toBe(1);
    const [id] = [...ids];

    const turn = await env.waitForTurn(id ?? '', isFinal);
    expect(turn?.status).toBe('completed');
    expect(await turnsFor(prompt)).toHaveLength(1);

    const retry = await attemptFor(prompt, { key, label: 'retry' });
    expect(retry.status).toBe(200);
    expect(retry.messageId).toBe(id);
    expect(retry.content).toBe(env.expectedAnswer(prompt));
    expect(retry.end).toMatchObject({ status: 'completed', stored: true });
    expect(await turnsFor(prompt)).toHaveLength(1);
  });

  it('a claim write that DynamoDB applied but answered 500 still gets its answer', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('ambiguous writes');
    const key = `focused-ambiguous-${Date.now()}`;
    // The SDK retries the 500; its retry meets the claim its first attempt wrote.
    env.proxy.failNext({ kind: 'ambiguous', operation: 'PutItem', bodyIncludes: `IDEM#${key}` });
    const first = await attemptFor(prompt, { key });
    await fleetIdle();
    const retry = await attemptFor(prompt, { key, label: 'retry' });
    const stored = await turnsFor(prompt);
    const seen = (attempt: Attempt) => ({
      status: attempt.status,
      error: attempt.errorCode,
      messageIdInTable: stored.some((turn) => turn.id === attempt.messageId),
    });
    // Today: both answered 409 in_progress, naming a message id that is never written.
    expect(seen(first)).toEqual({ status: 200, error: undefined, messageIdInTable: true });
    expect(seen(retry)).toEqual({ status: 200, error: undefined, messageIdInTable: true });
    expect(stored).toHaveLength(1);
  });

  it('a retry with the same key after a failure before the turn began runs the prompt', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('failed reads');
    const key = `focused-read-${Date.now()}`;
    const conversationId = `conv-${Date.now()}`;
    // A conversation with a turn already: only an existing conversation's turns are read as context.
    const seed = await attemptFor(uniquePrompt('failed reads seed'), { conversationId });
    expect(seed.status).toBe(200);
    // The key is claimed, then reading the conversation's earlier turns fails (every SDK attempt): the
    // request fails before any turn is written, and the client is told to try again.
    env.proxy.failNext({
      kind: 'serverError',
      operation: 'BatchGetItem',
      bodyIncludes: 'TURN#',
      count: SDK_ATTEMPTS,
    });
    const first = await attemptFor(prompt, { key, conversationId });
    expect([first.status, first.errorCode]).toEqual([500, 'internal_error']);

    const retry = await attemptFor(prompt, { key, conversationId, label: 'retry' });
    const stored = await turnsFor(prompt);
    expect({
      status: retry.status,
      error: retry.errorCode,
      messageIdInTable: stored.some((turn) => turn.id === retry.messageId),
    }).toEqual({ status: 200, error: undefined, messageIdInTable: true });
    expect(stored).toHaveLength(1);
  });

  it('retries with the same keys after a burst of 503s run their prompts, once each', async () => {
    await fleetIdle();
    // More prompts at once than the fleet's capacity (2 servers × 3): the surplus is refused with 503. The
    // servers are bounded at that capacity too: otherwise the gate's drain credit (the completion rate earlier
    // tests left behind) may rightly send the surplus to their spare slots, and nothing is refused.
    const burst = Array.from({ length: 12 }, (_, index) => ({
      prompt: uniquePrompt(`burst traffic ${index}`),
      key: `focused-burst-${Date.now()}-${index}`,
    }));
    const original = env.fleet.servers.map((server) => server.handle.options());
    for (const server of env.fleet.servers) server.handle.setOptions({ slots: 3, maxQueue: 0 });
    let firsts: Attempt[];
    try {
      firsts = await Promise.all(burst.map(({ prompt, key }) => attemptFor(prompt, { key })));
    } finally {
      env.fleet.servers.forEach((server, index) => {
        const options = original[index];
        if (options) server.handle.setOptions({ slots: options.slots, maxQueue: options.maxQueue });
      });
    }
    const refused = burst.filter((_, index) => firsts[index]?.status === 503);
    expect(refused.length).toBeGreaterThan(0);

    await fleetIdle();
    const retries = await Promise.all(
      refused.map(({ prompt, key }) => attemptFor(prompt, { key, label: 'retry' })),
    );
    expect(retries.map((retry) => [retry.status, retry.end?.status])).toEqual(
      retries.map(() => [200, 'completed']),
    );
    const turns = await env.scanTurns();
    for (const { prompt } of burst) {
      expect(turns.filter((turn) => turn.userMessage === prompt).length).toBeLessThanOrEqual(1);
    }
  });

  it('an attempt every server refuses (503) leaves one turn for its key once a retry is answered', async () => {
    await fleetIdle();
    // Each server runs one sequence and queues none, so a second prompt is refused by the server itself
    // (503), after routing chose it and the key was claimed; the failover server refuses too.
    const original = env.fleet.servers.map((server) => server.handle.options());
    for (const server of env.fleet.servers) server.handle.setOptions({ slots: 1, maxQueue: 0 });
    const prompt = uniquePrompt('refusing servers');
    const key = `focused-refused-${Date.now()}`;
    let first: Attempt | undefined;
    try {
      const blockers = [0, 1].map((index) => attemptFor(uniquePrompt(`slot holder ${index}`)));
      for (let i = 0; i < 100 && fleetStats().some((stats) => stats.running === 0); i++) await sleep(20);
      expect(fleetStats().map((stats) => stats.running)).toEqual([1, 1]);
      first = await attemptFor(prompt, { key });
      await Promise.all(blockers);
    } finally {
      env.fleet.servers.forEach((server, index) => {
        const options = original[index];
        if (options) server.handle.setOptions({ slots: options.slots, maxQueue: options.maxQueue });
      });
    }
    expect([first?.status, first?.errorCode]).toEqual([503, 'overloaded']);

    await fleetIdle();
    const retry = await attemptFor(prompt, { key, label: 'retry' });
    expect(retry.end).toMatchObject({ status: 'completed', stored: true });
    // Today: two turns for this one Idempotency-Key — the refused attempt's `failed` turn (its key was
    // freed for the retry, but the turn it had already written stays) and the retry's completed one.
    const stored = await turnsFor(prompt);
    expect(stored.map((turn) => `${turn.status}${turn.errorCode ? `/${turn.errorCode}` : ''}`)).toEqual([
      'completed',
    ]);
  });
});

describe('a SIGKILLed stack', () => {
  it('leaves the turn it was streaming interrupted once it starts again on the same data', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('crash recovery');
    const key = `focused-kill-${Date.now()}`;
    let restarting: Promise<void> | undefined;
    const attempt = await attemptFor(prompt, {
      key,
      onEvent: (_event, seen) => {
        if (seen.contentEvents === 10 && !restarting) restarting = env.restartStack('SIGKILL');
      },
    });
    await restarting;
    expect(attempt.broken).toBe(true);
    expect(attempt.end).toBeUndefined();
    expect(attempt.contentEvents).toBeLessThan(ANSWER_TOKENS);
    const id = messageIdOf(attempt);

    // The start-up sweep of the new process marked it: no waiting for the five-minute schedule.
    const turn = await env.waitForTurn(id, isFinal, 10_000);
    expect(turn).toMatchObject({ status: 'interrupted', errorCode: 'interrupted' });
    expect(env.stack().output()).toMatch(/"msg":"startup_sweep","marked":[1-9]/);

    // A retry with the same key is told what became of it, with the same message id.
    const retry = await attemptFor(prompt, { key, label: 'retry' });
    expect(retry.status).toBe(502);
    expect(retry.errorCode).toBe('upstream_error');
    expect(retry.messageId).toBe(id);
    expect(await turnsFor(prompt)).toHaveLength(1);
  });

  it('keeps a turn whose in_progress write was refused when the stack dies mid-stream', async () => {
    await fleetIdle();
    const prompt = uniquePrompt('throttled crashes');
    const key = `focused-throttled-kill-${Date.now()}`;
    // The in_progress write is refused (every SDK attempt), the answer streams anyway, and the process
    // dies before the final write: nothing durable knows about the turn the client is reading.
    failStartWrite();
    let restarting: Promise<void> | undefined;
    const attempt = await attemptFor(prompt, {
      key,
      onEvent: (_event, seen) => {
        if (seen.contentEvents === ANSWER_TOKENS / 2 && !restarting) restarting = env.restartStack('SIGKILL');
      },
    });
    await restarting;
    expect(attempt.status).toBe(200);
    expect(attempt.broken).toBe(true);
    const id = messageIdOf(attempt);
    const turn = await env.waitForTurn(id, isFinal, 5_000);
    const retry = await attemptFor(prompt, { key, label: 'retry' });
    // Today: no turn at all (the client saw a 200 stream with this message id; history never shows it),
    // and the key stays claimed by it: every retry is told 409 "still being answered" for 24 hours.
    expect({ turn: turn?.status, retry: retry.status, retryError: retry.errorCode }).toEqual({
      turn: 'interrupted',
      retry: 502,
      retryError: 'upstream_error',
    });
  });
});
