/**
 * The focused fault cases' one stack (two inference servers of 3 sequences, a 1.5 s idle time-out, a frame
 * per chunk) and their helpers. The hooks register in the test file that imports this, so each file has
 * its own stack.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Attempt, chatAttempt } from './client';
import { type FaultEnvironment, startFaultEnvironment } from './environment';

export const ANSWER_TOKENS = 60;
export const IDLE_TIMEOUT_MS = 1_500;

export let env: FaultEnvironment;
let promptCounter = 0;

/** A prompt no other test uses, so its turn is found in the table by its text. */
export function uniquePrompt(topic: string): string {
  promptCounter++;
  return `Focused case ${promptCounter}: explain ${topic} with examples`;
}

export const attemptFor = (prompt: string, extra: Partial<Parameters<typeof chatAttempt>[0]> = {}) =>
  chatAttempt({ baseUrl: env.url(), token: env.token('bob'), prompt, ...extra });

export const fleetStats = () => env.fleet.servers.map((server) => server.handle.stats());
export const totalAborted = () => fleetStats().reduce((sum, stats) => sum + stats.aborted, 0);

/** The server streaming right now (exactly one is expected to be). */
export function busyServer() {
  const busy = env.fleet.servers.filter((server) => server.handle.stats().running > 0);
  expect(busy).toHaveLength(1);
  const [server] = busy;
  if (!server) throw new Error('no busy server');
  return server;
}

/** The SDK's DynamoDB client makes 4 attempts: refuse them all. */
export const SDK_ATTEMPTS = 4;

/** Throttles every attempt at the next in_progress write (the only PutItem of an in_progress turn). */
export function failStartWrite(): void {
  env.proxy.failNext({
    kind: 'throttle',
    operation: 'PutItem',
    bodyIncludes: '"in_progress"',
    count: SDK_ATTEMPTS,
  });
}

export const isFinal = (turn: { status: string } | undefined) =>
  turn !== undefined && turn.status !== 'in_progress';

export async function turnsFor(prompt: string) {
  return (await env.scanTurns()).filter((turn) => turn.userMessage === prompt);
}

export function messageIdOf(attempt: Attempt): string {
  expect(attempt.messageId).toEqual(expect.any(String));
  return attempt.messageId ?? '';
}

/** Waits until no server streams (so the next case starts on an idle fleet) and the heartbeat saw it. */
export async function fleetIdle(): Promise<void> {
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
