/**
 * The OpenAI-compatible front door over real HTTP against a spawned local stack (`npm start`'s entry
 * point), with the official `openai` client and with curl: must shows 1 (streams, history, non-stream,
 * models) and 2 (an API key works, then is refused once revoked), the served OpenAPI document, bad input
 * as OpenAI-shaped 4xx, and the DynamoDB requests a /v1 turn costs against POST /chat's (a counting proxy
 * in front of dynalite).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyListBody, CreatedApiKeyBody } from '../../contract/api-keys';
import { buildOpenApiDocument } from '../../contract/openapi/document';
import { type LocalDynamoDb, startDynamoDb } from '../../local/emulators/dynamodb';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { SETTINGS } from '../../settings/settings';
import { type CountingProxy, startCountingProxy } from '../support/counting-proxy';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const PASSWORD = 'LocalDemo-2026!';
const MODEL = 'local-llm';

let dataDir: string;
let dynalite: LocalDynamoDb;
let proxy: CountingProxy;
let stack: SpawnedStack;
let bob: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-openai-'));
  dynalite = await startDynamoDb();
  proxy = await startCountingProxy(dynalite.endpoint);
  stack = await spawnLocalStack({
    dataDir,
    env: {
      ...UNMETERED_QUOTAS_ENV,
      LOCAL_DYNAMODB_ENDPOINT: proxy.endpoint,
      LOCAL_FLEET_TOKENS_PER_SECOND: '400',
      LOCAL_FLEET_ANSWER_TOKENS: '30',
      // A revoked key is refused within this long (60 s on AWS).
      API_KEY_CACHE_SECONDS: '3',
    },
  });
  bob = (await login(stack.url, 'bob@example.com', PASSWORD)).idToken;
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await dynalite?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const client = (apiKey: string, options: { maxRetries?: number } = {}) =>
  new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: options.maxRetries ?? 0 });

const authed = (token: string, init: RequestInit = {}) => ({
  ...init,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
});

async function history(token: string) {
  const response = await fetch(`${stack.url}/chat/history`, authed(token));
  return ((await response.json()) as { chats: { id: string; status: string; user_message: string }[] }).chats;
}

async function createKey(token: string, name: string): Promise<CreatedApiKeyBody> {
  const response = await fetch(
    `${stack.url}/chat/keys`,
    authed(token, { method: 'POST', body: JSON.stringify({ name }) }),
  );
  expect(response.status).toBe(201);
  return (await response.json()) as CreatedApiKeyBody;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the official openai client with a Cognito ID token (must show 1)', () => {
  it('streams an answer with usage, stored as a completed turn of a new conversation', async () => {
    // Act
    const { data: stream, response } = await client(bob)
      .chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'How do streams work?' },
        ],
        stream: true,
        stream_options: { include_usage: true },
      })
      .withResponse();
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    // Assess
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toMatch(
      /^(stop|length)$/,
    );
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last?.usage?.total_tokens).toBe(
      (last?.usage?.prompt_tokens ?? 0) + (last?.usage?.completion_tokens ?? 0),
    );
    const messageId = response.headers.get('x-message-id');
    expect(chunks.every((chunk) => chunk.id === `chatcmpl-${messageId}`)).toBe(true);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('1000000');
    const stored = (await history(bob)).find((chat) => chat.id === messageId);
    expect(stored).toMatchObject({ status: 'completed', user_message: 'How do streams work?' });
  });

  it('answers without streaming once stored, and a conversation_id (field or header) attaches the turn to it', async () => {
    // Act
    const first = await client(bob).chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'One' }],
    });
    const conversationId = (first as unknown as { conversation_id: string }).conversation_id;
    const second = await client(bob).chat.completions.create(
      {
        model: MODEL,
        messages: [
          { role: 'user', content: 'One' },
          { role: 'assistant', content: first.choices[0]?.message.content ?? '' },
          { role: 'user', content: 'Two' },
        ],
      },
      { headers: { 'x-conversation-id': conversationId } },
    );

    // Assess
    expect(first.object).toBe('chat.completion');
    expect(first.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(first.usage?.completion_tokens).toBeGreaterThan(0);
    expect((second as unknown as { conversation_id: string }).conversation_id).toBe(conversationId);
    const response = await fetch(`${stack.url}/chat/history?conversation_id=${conversationId}`, authed(bob));
    const turns = ((await response.json()) as { chats: { user_message: string; status: string }[] }).chats;
    // Only the new user message is stored per turn, not the client's whole list.
    expect(turns.map((turn) => [turn.user_message, turn.status])).toEqual([
      ['Two', 'completed'],
      ['One', 'completed'],
    ]);
  });

  it('lists the served model, and refuses another model with OpenAI’s 404', async () => {
    // Act
    const models = await client(bob).models.list();
    const refusal = await client(bob)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);

    // Assess
    expect(models.data.map((model) => model.id)).toEqual([MODEL]);
    expect(refusal).toBeInstanceOf(OpenAI.NotFoundError);
    expect((refusal as InstanceType<typeof OpenAI.NotFoundError>).error).toEqual({
      message: 'The model "gpt-4o" does not exist or you do not have access to it.',
      type: 'not_found_error',
      param: 'model',
      code: 'model_not_found',
    });
  });

  it('answers every bad input with an OpenAI-shaped 4xx, never a 5xx', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${stack.url}/v1/chat/completions`, authed(bob, { method: 'POST', body, headers }));
    const user = (content: unknown) =>
      JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }] });
    const cases: [string, Promise<Response>, number][] = [
      ['malformed JSON', post('{"model":'), 400],
      ['no messages', post(JSON.stringify({ model: MODEL })), 400],
      [
        'a wrong role',
        post(JSON.stringify({ model: MODEL, messages: [{ role: 'tool', content: 'x' }] })),
        400,
      ],
      ['empty content', post(user('  ')), 400],
      [
        'an assistant message last',
        post(JSON.stringify({ model: MODEL, messages: [{ role: 'assistant', content: 'x' }] })),
        400,
      ],
      ['too long a prompt', post(user('x'.repeat(32_001))), 400],
      [
        'an unknown model',
        post(JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })),
        404,
      ],
      [
        'a bad conversation_id',
        post(
          JSON.stringify({
            model: MODEL,
            messages: [{ role: 'user', content: 'x' }],
            conversation_id: '../x',
          }),
        ),
        400,
      ],
      ['a bad x-conversation-id', post(user('x'), { 'x-conversation-id': 'a b' }), 400],
      ['no caller', fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', body: user('x') }), 401],
      [
        'a bad key',
        fetch(`${stack.url}/v1/models`, { headers: { authorization: 'Bearer sk-chat-not-a-key' } }),
        401,
      ],
    ];
    for (const [name, pending, status] of cases) {
      const response = await pending;
      const body = (await response.json()) as { error: Record<string, unknown> };
      expect([name, response.status]).toEqual([name, status]);
      expect(Object.keys(body.error).sort(), name).toEqual(['code', 'message', 'param', 'type']);
    }
  });
});

describe('API keys (must show 2)', () => {
  it('lets a key act as its owner through the same client, lists it by prefix and last use, and refuses it once revoked', async () => {
    // Prepare
    const created = await createKey(bob, 'laptop');
    const keyed = client(created.key);

    // Act
    const { data: answer, response } = await keyed.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'Hello from a key' }] })
      .withResponse();
    const models = await keyed.models.list();
    await sleep(300);
    const listed = (await (await fetch(`${stack.url}/chat/keys`, authed(bob))).json()) as ApiKeyListBody;
    const revoked = await fetch(`${stack.url}/chat/keys/${created.id}`, authed(bob, { method: 'DELETE' }));
    await sleep(3_200);
    const refused = await keyed.models.list().catch((error: unknown) => error);
    const refusedChat = await keyed.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'again' }] })
      .catch((error: unknown) => error);

    // Assess
    expect(created.key).toMatch(/^sk-chat-[A-Za-z0-9_-]{43}$/);
    expect(created.prefix).toBe(created.key.slice(0, 12));
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    // The owner's tier (premium's window) and the owner's history.
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('1000000');
    const messageId = (answer as unknown as { message_id: string }).message_id;
    expect((await history(bob)).find((chat) => chat.id === messageId)?.status).toBe('completed');
    expect(models.data.map((model) => model.id)).toEqual([MODEL]);
    const entry = listed.keys.find((key) => key.id === created.id);
    expect(entry).toMatchObject({ name: 'laptop', prefix: created.prefix });
    expect(entry?.last_used_at).toEqual(expect.any(String));
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(revoked.status).toBe(204);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(refusedChat).toBeInstanceOf(OpenAI.AuthenticationError);
    const after = (await (await fetch(`${stack.url}/chat/keys`, authed(bob))).json()) as ApiKeyListBody;
    expect(after.keys.map((key) => key.id)).not.toContain(created.id);
  });

  it('does not let a key manage keys, and a second client (curl) streams with a key', async () => {
    // Prepare
    const created = await createKey(bob, 'curl');

    // Act
    const minted = await fetch(`${stack.url}/chat/keys`, authed(created.key, { method: 'POST', body: '{}' }));
    const { stdout } = await promisify(execFile)('curl', [
      '-sS',
      '-N',
      `${stack.url}/v1/chat/completions`,
      '-H',
      `Authorization: Bearer ${created.key}`,
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ model: MODEL, stream: true, messages: [{ role: 'user', content: 'Hi from curl' }] }),
    ]);

    // Assess
    expect(minted.status).toBe(401);
    const events = stdout.split('\n\n').filter((frame) => frame.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events
      .slice(0, -1)
      .map((frame) => JSON.parse(frame.slice('data: '.length)) as { object: string });
    expect(chunks.length).toBeGreaterThan(2);
    expect(new Set(chunks.map((chunk) => chunk.object))).toEqual(new Set(['chat.completion.chunk']));
  });
});

describe('GET /openapi.json', () => {
  it('serves the document the contract builds, for this deployment’s limits, with no caller', async () => {
    // Act
    const response = await fetch(`${stack.url}/openapi.json`);

    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(
      JSON.parse(
        JSON.stringify(
          buildOpenApiDocument({
            maxPromptChars: SETTINGS.maxPromptChars.default as number,
            maxStoredAnswerChars: SETTINGS.maxStoredAnswerChars.default as number,
            modelId: MODEL,
          }),
        ),
      ),
    );
  });
});

describe('DynamoDB requests per turn', () => {
  /** The chat table's requests while `send` runs (and a moment after, for writes off the answer's path). */
  async function chatTableRequests(send: () => Promise<unknown>): Promise<Record<string, number>> {
    const from = performance.now();
    await send();
    await sleep(300);
    const counts: Record<string, number> = {};
    for (const request of proxy.between(from, performance.now())) {
      if (request.table !== 'ChatTable') continue;
      counts[request.operation] = (counts[request.operation] ?? 0) + 1;
    }
    return counts;
  }

  it('are the same for a /v1 turn with an ID token as for POST /chat, and a key adds one cached lookup', async () => {
    // Prepare: warm containers (the token's keys, the stop inbox), and a key used once.
    const key = await createKey(bob, 'cost');
    const prompt = (n: string) => ({
      model: MODEL,
      messages: [{ role: 'user' as const, content: `count ${n}` }],
    });
    await client(bob).chat.completions.create(prompt('warm'));
    await fetch(
      `${stack.url}/chat`,
      authed(bob, { method: 'POST', body: JSON.stringify({ prompt: 'warm' }) }),
    );

    // Act
    const chat = await chatTableRequests(() =>
      fetch(
        `${stack.url}/chat`,
        authed(bob, { method: 'POST', body: JSON.stringify({ prompt: 'count chat' }) }),
      ).then((r) => r.json()),
    );
    const v1 = await chatTableRequests(() => client(bob).chat.completions.create(prompt('v1')));
    const keyFirst = await chatTableRequests(() => client(key.key).chat.completions.create(prompt('key 1')));
    const keyCached = await chatTableRequests(() => client(key.key).chat.completions.create(prompt('key 2')));

    // Assess: quota grant and release, the conversation record, the start and final writes.
    expect(chat).toEqual({ UpdateItem: 4, PutItem: 1 });
    expect(v1).toEqual(chat);
    // The key's lookup (one GetItem) and its last use (one UpdateItem, off the answer's path).
    expect(keyFirst).toEqual({ ...chat, GetItem: 1, UpdateItem: 5 });
    expect(keyCached).toEqual(chat);
  });
});
