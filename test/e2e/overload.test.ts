/**
 * Tiered admission over real HTTP against a small fleet: one server with 8 batch slots (capacity 10
 * with its short queue), slow answers, a 3 s free-tier cool-down, the heartbeat every second.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { fetchSse, type SseRead } from '../support/http';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const BUSY = 'Our AI servers are busy. Please try again shortly.';

let dataDir: string;
let stack: SpawnedStack;
let alice: string;
let bob: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-overload-'));
  stack = await spawnLocalStack({
    dataDir,
    env: {
      ...UNMETERED_QUOTAS_ENV,
      LOCAL_FLEET_SERVERS: '1',
      LOCAL_FLEET_SLOTS: '8',
      LOCAL_FLEET_TOKENS_PER_SECOND: '15',
      LOCAL_FLEET_ANSWER_TOKENS: '45',
      FREE_COOLDOWN_SECONDS: '3',
      HEARTBEAT_INTERVAL_SECONDS: '1',
    },
  });
  alice = (await login(stack.url, 'alice@example.com', 'LocalDemo-2026!')).idToken;
  bob = (await login(stack.url, 'bob@example.com', 'LocalDemo-2026!')).idToken;
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stream(token: string, prompt: string, attempt = 0): Promise<SseRead> {
  return fetchSse(`${stack.url}/chat`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-retry-attempt': String(attempt),
    },
    body: JSON.stringify({ prompt, stream: true }),
  });
}

const completed = (read: SseRead) =>
  read.events.some((event) => event.event === 'end') && read.events.at(-1)?.data === '[DONE]';

describe('tiered admission under a burst', () => {
  it('refuses free streams with the busy message and Retry-After, keeps premium streaming, and lets free back after the cool-down', async () => {
    // A burst of free streams, one every 150 ms, until the fleet sheds free tier.
    const admitted: Promise<SseRead>[] = [];
    let refusal: SseRead | undefined;
    for (let i = 0; i < 40 && !refusal; i++) {
      const read = stream(alice, `free prompt ${i}`);
      const status = await Promise.race([read.then((r) => r.status), sleep(150).then(() => 200)]);
      if (status === 503) refusal = await read;
      else admitted.push(read);
    }
    expect(refusal, 'the burst never got a 503').toBeDefined();
    expect(refusal?.status).toBe(503);
    expect(JSON.parse(refusal?.text ?? '{}')).toEqual({
      error: { code: 'overloaded', message: BUSY, retry_after_seconds: expect.any(Number) },
    });
    const retryAfter = Number(refusal?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(10);

    // Free clients back off exponentially: a third attempt is told at least 40 s.
    const later = await stream(alice, 'free again', 2);
    if (later.status === 503) expect(Number(later.headers.get('retry-after'))).toBeGreaterThanOrEqual(40);

    // Premium is still served while free tier is shed, and its stream completes.
    const premium = await stream(bob, 'premium while busy');
    expect(premium.status).toBe(200);
    expect(completed(premium)).toBe(true);

    // The free streams that were admitted all complete: nothing admitted is dropped.
    const finished = await Promise.all(admitted);
    expect(finished.every((read) => read.status === 200 && completed(read))).toBe(true);

    // Once the load has stayed low for the cool-down, free tier is admitted again.
    let back: SseRead | undefined;
    for (let i = 0; i < 30 && back?.status !== 200; i++) {
      await sleep(1000);
      back = await stream(alice, 'free after the cool-down');
    }
    expect(back?.status).toBe(200);
    expect(back && completed(back)).toBe(true);
  }, 90_000);
});
