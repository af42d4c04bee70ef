/**
 * The API contract over real HTTP against `npm start`'s entry point (a spawned local/main.ts), with a
 * real SSE client: what an outside client of the product sees.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { fetchSse, type SseRead } from '../support/http';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';
import { claimsOf, reissue } from '../support/tokens';

const PASSWORD = 'LocalDemo-2026!';
// Quotas have their own test (quotas.test.ts); this one sends more prompts a minute than free tier's burst.
const FAST_FLEET = {
  ...UNMETERED_QUOTAS_ENV,
  LOCAL_FLEET_TOKENS_PER_SECOND: '200',
  LOCAL_FLEET_ANSWER_TOKENS: '40',
};

let dataDir: string;
let stack: SpawnedStack;
let alice: string;
let bob: string;

interface HistoryEntry {
  id: string;
  user_message: string;
  assistant_response: string;
  timestamp: string;
  conversation_id: string;
  status: string;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const jsonHeaders = (token: string) => ({ ...auth(token), 'content-type': 'application/json' });

async function chat(token: string, body: unknown, extra: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}/chat`, {
    method: 'POST',
    headers: { ...jsonHeaders(token), ...extra },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function history(token: string, query = '') {
  const response = await fetch(`${stack.url}/chat/history${query}`, { headers: auth(token) });
  return {
    status: response.status,
    body: (await response.json()) as {
      chats: HistoryEntry[];
      next_cursor?: string;
      error?: { code: string };
    },
  };
}

function contentOf(read: SseRead): string {
  return read.events
    .filter((event) => event.event === undefined && event.data !== '[DONE]')
    .map((event) => (JSON.parse(event.data) as { content: string }).content)
    .join('');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-e2e-'));
  stack = await spawnLocalStack({ dataDir, env: FAST_FLEET });
  alice = (await login(stack.url, 'alice@example.com', PASSWORD)).idToken;
  bob = (await login(stack.url, 'bob@example.com', PASSWORD)).idToken;
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('POST /chat', () => {
  it('answers a prompt with message_id, response and conversation_id once the turn is stored', async () => {
    const answer = await chat(alice, { prompt: 'What is a Lambda Function URL?' });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      message_id: expect.any(String),
      response: expect.stringMatching(/\w+/),
      conversation_id: expect.any(String),
    });
    const { body } = await history(alice, `?conversation_id=${answer.body.conversation_id}`);
    expect(body.chats).toEqual([
      {
        id: answer.body.message_id,
        user_message: 'What is a Lambda Function URL?',
        assistant_response: answer.body.response,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        conversation_id: answer.body.conversation_id,
        status: 'completed',
      },
    ]);
  });

  it.each([
    ['the body', '', { stream: true }],
    ['the query string', '?stream=true', {}],
  ])('streams SSE when asked in %s: meta, content chunks, end, [DONE]', async (_where, query, extra) => {
    const read = await fetchSse(`${stack.url}/chat${query}`, {
      method: 'POST',
      headers: jsonHeaders(bob),
      body: JSON.stringify({ prompt: 'Explain response streaming', ...extra }),
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const [meta, ...rest] = read.events;
    expect(meta?.event).toBe('meta');
    const ids = JSON.parse(meta?.data ?? '{}') as { message_id: string; conversation_id: string };
    expect(read.headers.get('x-message-id')).toBe(ids.message_id);
    const contents = rest.filter((event) => event.event === undefined && event.data !== '[DONE]');
    // Streamed, not sent at the end: the first token in its own frame, the rest in frames per SSE_FLUSH_MS.
    expect(contents.length).toBeGreaterThanOrEqual(2);
    const firstText = (JSON.parse(contents[0]?.data ?? '{}') as { content?: string }).content ?? '';
    expect(firstText.length).toBeLessThan(contentOf(read).length / 2);
    expect(rest.at(-1)?.data).toBe('[DONE]');
    const end = rest.find((event) => event.event === 'end');
    expect(JSON.parse(end?.data ?? '{}')).toMatchObject({
      message_id: ids.message_id,
      status: 'completed',
      stored: true,
    });
    // The stored answer is exactly what was streamed.
    const { body } = await history(bob, `?conversation_id=${ids.conversation_id}`);
    expect(body.chats[0]?.assistant_response).toBe(contentOf(read));
  });

  it('continues a conversation: later turns share its id and history lists them newest first', async () => {
    const first = await chat(alice, { prompt: 'Remember the word pelican.' });
    const conversation = String(first.body.conversation_id);
    const second = await chat(alice, { prompt: 'Which word?', conversation_id: conversation });
    expect(second.status).toBe(200);
    expect(second.body.conversation_id).toBe(conversation);
    const { body } = await history(alice, `?conversation_id=${conversation}`);
    expect(body.chats.map((c) => c.id)).toEqual([second.body.message_id, first.body.message_id]);
  });

  it.each([
    ['malformed JSON', '{"prompt":'],
    ['an empty prompt', { prompt: '' }],
    ['a prompt that is not a string', { prompt: ['a'] }],
    ['a prompt over the size limit', { prompt: 'x'.repeat(32_001) }],
    ['a bad conversation id', { prompt: 'hi', conversation_id: 'a/b' }],
  ])('answers %s with 400 and the error shape', async (_name, body) => {
    const answer = await chat(alice, body);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: { code: 'invalid_request', message: expect.any(String) } });
  });

  it.each([
    ['10 MB', 10 * 1024 * 1024],
    ['300 KB', 300 * 1024],
  ])('refuses a %s body with a JSON 413, and the next request is served', async (_size, bytes) => {
    const huge = JSON.stringify({ prompt: 'x'.repeat(bytes) });
    const refused = await chat(alice, huge);
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
    expect((await chat(alice, { prompt: 'hi' })).status).toBe(200);
  });

  it('never lets a client pick its tier: a "tier" field in the body is ignored', async () => {
    const answer = await chat(alice, { prompt: 'hi', tier: 'premium' });
    expect(answer.status).toBe(200);
  });
});

describe('the web client', () => {
  it('is served with the security headers CloudFront adds on AWS', async () => {
    const response = await fetch(`${stack.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
  });
});

describe('authentication', () => {
  it.each([
    ['no token', () => ({})],
    ['a malformed token', () => ({ authorization: 'Bearer not.a.jwt' })],
    ['a tampered token', () => ({ authorization: `Bearer ${alice.slice(0, -4)}AAAA` })],
    ['an expired token', () => auth(reissue(alice, { exp: Math.floor(Date.now() / 1000) - 60 }))],
    ['a token from a foreign issuer', () => auth(reissue(alice, { iss: 'https://evil.example.com/pool' }))],
    ['an access token instead of an ID token', () => auth(reissue(alice, { token_use: 'access' }))],
    ['a token without an expiry', () => auth(reissue(alice, { exp: undefined }))],
    [
      'a token whose audience also names a foreign client',
      () => auth(reissue(alice, { aud: [claimsOf(alice).aud, 'foreign-client'] })),
    ],
    [
      'a token issued an hour from now',
      () => auth(reissue(alice, { iat: Math.floor(Date.now() / 1000) + 3600 })),
    ],
    [
      'a token authenticated an hour from now',
      () => auth(reissue(alice, { auth_time: Math.floor(Date.now() / 1000) + 3600 })),
    ],
  ])('refuses %s with 401 on every route', async (_name, headers) => {
    for (const [method, path] of [
      ['GET', '/chat/history'],
      ['POST', '/chat'],
      ['POST', '/chat/store'],
    ] as const) {
      const response = await fetch(`${stack.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers() },
        ...(method === 'POST'
          ? { body: JSON.stringify({ prompt: 'hi', user_message: 'q', assistant_response: 'a' }) }
          : {}),
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });
});

describe('GET /chat/history', () => {
  it("shows each user only their own turns, even with another user's conversation id", async () => {
    const bobs = await chat(bob, { prompt: 'a secret of bob' });
    const aliceView = await history(alice, '?limit=100');
    expect(aliceView.body.chats.some((c) => c.user_message === 'a secret of bob')).toBe(false);
    const peek = await history(alice, `?conversation_id=${bobs.body.conversation_id}`);
    expect(peek.body.chats).toEqual([]);
  });

  it('pages with a cursor, newest first, without gaps or repeats', async () => {
    const all = (await history(alice, '?limit=100')).body.chats.map((c) => c.id);
    expect(all.length).toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await history(alice, `?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen.push(...page.body.chats.map((c) => c.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all);
    const times = (await history(alice, '?limit=100')).body.chats.map((c) => c.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it("refuses another user's cursor and bad limits with 400", async () => {
    const bobPage = await history(bob, '?limit=1');
    const cursor = bobPage.body.next_cursor;
    expect(cursor).toBeDefined();
    expect((await history(alice, `?cursor=${encodeURIComponent(cursor ?? '')}`)).status).toBe(400);
    for (const limit of ['0', '101', 'x']) expect((await history(alice, `?limit=${limit}`)).status).toBe(400);
  });
});

describe('POST /chat/store', () => {
  const store = (token: string, body: unknown) =>
    fetch(`${stack.url}/chat/store`, {
      method: 'POST',
      headers: jsonHeaders(token),
      body: JSON.stringify(body),
    });

  it('stores a turn once per id, and refuses the same id with other content', async () => {
    const turn = {
      id: 'client-turn-1',
      user_message: 'q?',
      assistant_response: 'a.',
      conversation_id: 'imported',
    };
    const first = await store(alice, turn);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'success' });
    expect((await store(alice, turn)).status).toBe(200);
    const conflict = await store(alice, { ...turn, assistant_response: 'different' });
    expect(conflict.status).toBe(409);
    const { body } = await history(alice, '?conversation_id=imported');
    expect(body.chats).toHaveLength(1);
    expect(body.chats[0]).toMatchObject({
      id: 'client-turn-1',
      status: 'completed',
      assistant_response: 'a.',
    });
  });

  it('rejects a body without the required texts', async () => {
    expect((await store(alice, { user_message: 'q' })).status).toBe(400);
    expect(
      (await store(alice, { user_message: 'q', assistant_response: 'a', timestamp: 'yesterday' })).status,
    ).toBe(400);
  });
});

describe('a client that vanishes mid-stream', () => {
  it('still gets its answer stored as completed', async () => {
    const read = await fetchSse(
      `${stack.url}/chat`,
      {
        method: 'POST',
        headers: jsonHeaders(alice),
        body: JSON.stringify({ prompt: 'a long answer please', stream: true }),
      },
      { onEvent: (_event, index) => index >= 3 },
    );
    expect(read.aborted).toBe(true);
    const messageId = read.headers.get('x-message-id');
    let status: string | undefined;
    for (let i = 0; i < 50 && status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await history(alice, '?limit=20')).body.chats.find((c) => c.id === messageId)?.status;
    }
    expect(status).toBe('completed');
  });
});

describe('a restart', () => {
  it('keeps users and history', async () => {
    const before = (await history(bob, '?limit=100')).body.chats;
    expect(before.length).toBeGreaterThan(0);
    expect(await stack.stop()).toBe(0);
    stack = await spawnLocalStack({ dataDir, env: FAST_FLEET });
    bob = (await login(stack.url, 'bob@example.com', PASSWORD)).idToken;
    expect((await history(bob, '?limit=100')).body.chats).toEqual(before);
  });
});
