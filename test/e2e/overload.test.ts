/**
 * Tiered admission over real HTTP against a small fleet: one server with 8 batch slots (capacity 10
 * with its short queue), slow answers, a 3 s free-tier cool-down, the heartbeat every second. POST /chat
 * and /v1/chat/completions shed and serve alike.
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

/** POST /v1/chat/completions, not streamed. */
const completion = (token: string, content: string) =>
  fetch(`${stack.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'local-llm', messages: [{ role: 'user', content }] }),
  });

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
    // The same shedding through /v1/chat/completions (issue 14): free refused, in OpenAI's error shape.
    // Shedding admits a falling share of free prompts, so ask until one is refused, as the burst did.
    const admittedOnV1: Promise<Response>[] = [];
    let freeOnV1: Response | undefined;
    for (let i = 0; i < 20 && !freeOnV1; i++) {
      const answer = completion(alice, `free on /v1 while busy ${i}`);
      const status = await Promise.race([answer.then((r) => r.status), sleep(150).then(() => 200)]);
      if (status === 503) freeOnV1 = await answer;
      else admittedOnV1.push(answer);
    }
    if (!freeOnV1) throw new Error('/v1 never shed a free prompt');
    expect(await freeOnV1.json()).toMatchObject({ error: { code: 'overloaded', message: BUSY } });
    expect(Number(freeOnV1.headers.get('retry-after'))).toBeGreaterThanOrEqual(10);
    const premiumOnV1 = completion(bob, 'premium on /v1 while busy');

    // Free clients back off exponentially: a third attempt is told at least 40 s.
    const later = await stream(alice, 'free again', 2);
    if (later.status === 503) expect(Number(later.headers.get('retry-after'))).toBeGreaterThanOrEqual(40);

    // Premium is still served while free tier is shed, and its stream completes.
    const premium = await stream(bob, 'premium while busy');
    expect(premium.status).toBe(200);
    expect(completed(premium)).toBe(true);
    const servedOnV1 = await premiumOnV1;
    expect(servedOnV1.status).toBe(200);
    expect(await servedOnV1.json()).toMatchObject({ choices: [{ finish_reason: expect.any(String) }] });

    // The free streams that were admitted all complete: nothing admitted is dropped.
    const finished = await Promise.all(admitted);
    expect((await Promise.all(admittedOnV1)).map((answer) => answer.status)).toEqual(
      admittedOnV1.map(() => 200),
    );
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
