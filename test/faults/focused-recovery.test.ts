/**
 * Focused faults, continued: Idempotency-Key retries under refusals and 503s, and a stack SIGKILLed
 * mid-stream (its turns interrupted at the next start). The first cases are in focused.test.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Attempt } from './support/client';

import {
  ANSWER_TOKENS,
  attemptFor,
  env,
  failStartWrite,
  fleetIdle,
  fleetStats,
  isFinal,
  messageIdOf,
  SDK_ATTEMPTS,
  turnsFor,
  uniquePrompt,
} from './support/focused-stack';

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
    // A 409 that came before the first attempt's turn was written names no id (it may never exist).
    const ids = new Set(attempts.flatMap((attempt) => (attempt.messageId ? [attempt.messageId] : [])));
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
