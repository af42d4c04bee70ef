/**
 * Quality of service through `/v1/chat/completions`, against a spawned local stack with one inference
 * server: the free window (3 prompts) is the same counter as POST /chat's, with the same headers and a
 * 429 the official client does not sleep hours on (must show 4); with the fleet drained, free and premium
 * are refused exactly as on POST /chat, and the official client waits out the 503's Retry-After (must
 * show 1, overload).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCognitoUser } from '../../local/emulators/cognito';
import { runFleetCli } from '../support/fleet-cli';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const PASSWORD = 'LocalDemo-2026!';
const MODEL = 'local-llm';

let dataDir: string;
let stack: SpawnedStack;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-openai-qos-'));
  stack = await spawnLocalStack({
    dataDir,
    env: {
      FREE_PROMPTS_PER_WINDOW: '3',
      LOCAL_FLEET_SERVERS: '1',
      LOCAL_FLEET_TOKENS_PER_SECOND: '400',
      LOCAL_FLEET_ANSWER_TOKENS: '20',
      // Short waits, so the client's honoured Retry-After is seconds, not tens of them.
      PREMIUM_RETRY_AFTER_SECONDS: '1',
      PREMIUM_ADMISSION_WAIT_MS: '0',
      FREE_RETRY_AFTER_BASE_SECONDS: '1',
      // A key's tier change reaches it within this long (60 s on AWS).
      API_KEY_CACHE_SECONDS: '2',
    },
  });
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

interface Attempt {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  readonly retryAfter: string | null;
  readonly retryCount: string | null;
}

/** The official client, recording every HTTP attempt it makes (its own retries included). */
function recordingClient(apiKey: string, maxRetries: number) {
  const attempts: Attempt[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const startedAt = performance.now();
    const response = await fetch(input, init);
    attempts.push({
      startedAt,
      endedAt: performance.now(),
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      retryCount: new Headers(init?.headers).get('x-stainless-retry-count'),
    });
    return response;
  };
  return {
    attempts,
    client: new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries, fetch: recordingFetch }),
  };
}

const ask = (content: string) => ({ model: MODEL, messages: [{ role: 'user' as const, content }] });

const postChat = (token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('free-tier quotas through /v1 (must show 4)', () => {
  it('counts /v1 prompts in the same window as POST /chat, with the same headers, then 429 without an hours-long automatic retry', async () => {
    // Act: two prompts through POST /chat, one through /v1, then one more through /v1.
    const first = await postChat(carol, { prompt: 'one' });
    await first.json();
    const second = await postChat(carol, { prompt: 'two' });
    await second.json();
    const { client, attempts } = recordingClient(carol, 2);
    const { response: third } = await client.chat.completions.create(ask('three')).withResponse();
    const refusal = await client.chat.completions.create(ask('four')).catch((error: unknown) => error);

    // Assess
    const remaining = [first, second, third].map((r) => r.headers.get('x-ratelimit-remaining-requests'));
    expect(remaining).toEqual(['2', '1', '0']);
    expect(third.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(refusal).toBeInstanceOf(OpenAI.RateLimitError);
    const error = refusal as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limited', param: null });
    expect(error.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(Number(error.headers.get('retry-after'))).toBeGreaterThan(60);
    // The window is hours away: the client is told not to retry, so it answers at once.
    expect(error.headers.get('x-should-retry')).toBe('false');
    expect(attempts.map((attempt) => attempt.status)).toEqual([200, 429]);
    // And POST /chat is refused the same.
    expect((await postChat(carol, { prompt: 'five' })).status).toBe(429);
  });
});

describe('an API key’s tier', () => {
  it('is its owner’s, and follows `npm run users` within the key cache period', async () => {
    // Prepare
    const created = await fetch(`${stack.url}/chat/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob}` },
    });
    const { key } = (await created.json()) as { key: string };
    const keyed = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 });

    // Act
    const asPremium = await keyed.chat.completions.create(ask('as premium')).withResponse();
    const demoted = await runFleetCli(['free', 'bob@example.com'], { DATA_DIR: dataDir }, 'users.ts');
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const asFree = await keyed.chat.completions.create(ask('as free')).withResponse();
    const promoted = await runFleetCli(['premium', 'bob@example.com'], { DATA_DIR: dataDir }, 'users.ts');

    // Assess: premium's window, then free's (3 prompts), and the command says the key follows.
    expect(asPremium.response.headers.get('x-ratelimit-limit-requests')).toBe('500');
    expect(demoted.stdout).toContain('Their 1 API key acts with the new tier within a minute.');
    expect(asFree.response.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(promoted.code).toBe(0);
  }, 60_000);
});

describe('overload through /v1', () => {
  it('refuses free and premium like POST /chat when no server is available, and the official client waits out Retry-After', async () => {
    // Prepare: drain the one server; wait until POST /chat refuses.
    const list = await runFleetCli(['list', '--json'], { DATA_DIR: dataDir });
    const servers = JSON.parse(list.stdout) as { id: string }[];
    for (const server of servers)
      expect((await runFleetCli(['drain', server.id], { DATA_DIR: dataDir })).code).toBe(0);
    const deadline = Date.now() + 15_000;
    while ((await postChat(bob, { prompt: 'busy?' })).status !== 503) {
      if (Date.now() > deadline) throw new Error('the fleet never refused');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // Act
    const premium = recordingClient(bob, 1);
    const premiumRefusal = await premium.client.chat.completions
      .create({ ...ask('premium, busy'), stream: true })
      .catch((error: unknown) => error);
    const free = recordingClient(alice, 0);
    const freeRefusal = await free.client.chat.completions
      .create(ask('free, busy'), { headers: { 'x-stainless-retry-count': '2' } })
      .catch((error: unknown) => error);
    const freeOnChat = await postChat(alice, { prompt: 'free, busy' }, { 'x-retry-attempt': '2' });

    // Assess: premium's 503 with Retry-After 1 s, retried by the client after at least that long.
    expect(premiumRefusal).toBeInstanceOf(OpenAI.InternalServerError);
    const premiumError = premiumRefusal as InstanceType<typeof OpenAI.APIError>;
    expect(premiumError.status).toBe(503);
    expect(premiumError.error).toMatchObject({ type: 'server_error', code: 'overloaded' });
    expect(premium.attempts.map((attempt) => [attempt.status, attempt.retryAfter])).toEqual([
      [503, '1'],
      [503, '1'],
    ]);
    const [once, again] = premium.attempts;
    expect((again?.startedAt ?? 0) - (once?.endedAt ?? 0)).toBeGreaterThanOrEqual(950);
    expect(again?.retryCount).toBe('1');
    // Free: the official client's retry counter drives the same doubling backoff as x-retry-attempt
    // (1 s doubled twice, up to 20 % more), and the same quota window is left untouched (refunded).
    const freeError = freeRefusal as InstanceType<typeof OpenAI.InternalServerError>;
    expect(freeError).toBeInstanceOf(OpenAI.InternalServerError);
    expect(freeError.status).toBe(503);
    expect(freeOnChat.status).toBe(503);
    for (const retryAfter of [freeError.headers.get('retry-after'), freeOnChat.headers.get('retry-after')]) {
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(4);
      expect(Number(retryAfter)).toBeLessThanOrEqual(5);
    }
    expect(freeError.headers.get('x-ratelimit-remaining-requests')).toBe(
      freeOnChat.headers.get('x-ratelimit-remaining-requests'),
    );

    for (const server of servers) await runFleetCli(['undrain', server.id], { DATA_DIR: dataDir });
  }, 60_000);
});
