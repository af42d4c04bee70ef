/**
 * The must-show fault cases, one at a time, on one local stack whose DynamoDB, inference fleet and
 * process the test controls from outside (support/environment.ts). Answers stream slowly enough
 * (40 tokens/s, 60 tokens) that "mid-stream" is a long, unambiguous moment.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../support/fault-proxy';
import { parkedWrites } from './support/environment';

import {
  ANSWER_TOKENS,
  attemptFor,
  busyServer,
  env,
  failStartWrite,
  fleetIdle,
  fleetStats,
  IDLE_TIMEOUT_MS,
  isFinal,
  messageIdOf,
  totalAborted,
  uniquePrompt,
} from './support/focused-stack';

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
