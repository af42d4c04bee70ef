/**
 * Per-user quotas over real HTTP against a spawned local stack (`npm start`'s entry point), with the free
 * window cut to 3 prompts: the rate-limit headers, the 429 past the window and past the concurrent
 * streams, premium untouched, an Idempotency-Key retry counted once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATE_LIMITED_MESSAGES } from '../../contract/errors';
import { createCognitoUser } from '../../local/emulators/cognito';
import { readSse } from '../support/http';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const PASSWORD = 'LocalDemo-2026!';

let dataDir: string;
let stack: SpawnedStack;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-quotas-'));
  stack = await spawnLocalStack({
    dataDir,
    env: {
      FREE_PROMPTS_PER_WINDOW: '3',
      // ~2 s an answer: long enough for two streams to overlap a third prompt.
      LOCAL_FLEET_TOKENS_PER_SECOND: '20',
      LOCAL_FLEET_ANSWER_TOKENS: '40',
    },
  });
  // A second free user, so the stream test has a window of its own.
  await createCognitoUser(
    stack.config.cognitoEndpoint,
    stack.config.userPoolId,
    'carol@example.com',
    PASSWORD,
  );
  const token = async (name: string) => (await login(stack.url, `${name}@example.com`, PASSWORD)).idToken;
  [alice, bob, carol] = [await token('alice'), await token('bob'), await token('carol')];
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function post(token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${stack.url}/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const limits = (response: Response) => ({
  limit: response.headers.get('x-ratelimit-limit-requests'),
  remaining: response.headers.get('x-ratelimit-remaining-requests'),
  reset: response.headers.get('x-ratelimit-reset-requests'),
});

describe('the prompt quota (must show 1)', () => {
  it('gives a free user 3 prompts (remaining 2, 1, 0), then 429 with Retry-After; a keyed retry counts once', async () => {
    // Act
    const first = await post(alice, { prompt: 'one' }, { 'idempotency-key': 'alice-one' });
    const firstBody = (await first.json()) as { message_id: string };
    const retry = await post(alice, { prompt: 'one' }, { 'idempotency-key': 'alice-one' });
    const retryBody = (await retry.json()) as { message_id: string };
    const second = await post(alice, { prompt: 'two' });
    await second.json();
    const third = await post(alice, { prompt: 'three', stream: true });
    const thirdRead = await readSse(third);
    const fourth = await post(alice, { prompt: 'four' });
    const fourthBody = (await fourth.json()) as {
      error: { code: string; message: string; retry_after_seconds: number };
    };

    // Assess
    expect([first.status, retry.status, second.status, third.status]).toEqual([200, 200, 200, 200]);
    expect(retryBody.message_id).toBe(firstBody.message_id);
    expect([first, retry, second, third].map((r) => limits(r).remaining)).toEqual(['2', '2', '1', '0']);
    expect(limits(first).limit).toBe('3');
    expect(limits(first).reset).toMatch(/^(\d+h)?(\d+m)?\d+s$/);
    expect(third.headers.get('content-type')).toContain('text/event-stream');
    expect(thirdRead.events.at(-1)?.data).toBe('[DONE]');

    expect(fourth.status).toBe(429);
    expect(limits(fourth)).toMatchObject({ limit: '3', remaining: '0' });
    const retryAfter = Number(fourth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3 * 3600);
    expect(fourthBody).toEqual({
      error: { code: 'rate_limited', message: RATE_LIMITED_MESSAGES.window, retry_after_seconds: retryAfter },
    });
    // Still replayed, not refused, once the window is spent.
    const lateRetry = await post(alice, { prompt: 'one' }, { 'idempotency-key': 'alice-one' });
    expect(lateRetry.status).toBe(200);
    expect(((await lateRetry.json()) as { message_id: string }).message_id).toBe(firstBody.message_id);
  }, 60_000);

  it('leaves a premium user unaffected', async () => {
    // Act: more prompts than the free window, four at once (premium may stream six).
    const responses = await Promise.all([1, 2, 3, 4].map((n) => post(bob, { prompt: `bob ${n}` })));
    await Promise.all(responses.map((response) => response.json()));

    // Assess
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(responses.map((response) => limits(response).limit)).toEqual(['500', '500', '500', '500']);
    expect(responses.map((response) => Number(limits(response).remaining)).sort()).toEqual([
      496, 497, 498, 499,
    ]);
  }, 60_000);
});

describe('the concurrent streams (must show 2)', () => {
  it('refuses a free user’s third stream with 429 while two run, and admits once one ended', async () => {
    // Prepare: two streams under way (headers arrive with the first token; ~2 s of answer to come).
    const running = await Promise.all([
      post(carol, { prompt: 'a', stream: true }),
      post(carol, { prompt: 'b', stream: true }),
    ]);

    // Act
    const third = await post(carol, { prompt: 'c', stream: true });
    const thirdBody = (await third.json()) as {
      error: { code: string; message: string; retry_after_seconds: number };
    };
    const reads = await Promise.all(running.map((response) => readSse(response)));
    const after = await post(carol, { prompt: 'd', stream: true });
    await readSse(after);

    // Assess
    expect(running.map((response) => response.status)).toEqual([200, 200]);
    expect(third.status).toBe(429);
    expect(thirdBody.error).toMatchObject({ code: 'rate_limited', message: RATE_LIMITED_MESSAGES.streams });
    expect(Number(third.headers.get('retry-after'))).toBe(thirdBody.error.retry_after_seconds);
    expect(thirdBody.error.retry_after_seconds).toBeLessThanOrEqual(10);
    // The refused stream consumed nothing: carol's window shows two prompts, then three.
    expect(limits(third).remaining).toBe('1');
    expect(reads.map((read) => read.events.at(-1)?.data)).toEqual(['[DONE]', '[DONE]']);
    expect(after.status).toBe(200);
    expect(limits(after).remaining).toBe('0');
  }, 60_000);
});
