/**
 * Conversations as a resource over real HTTP against a spawned local stack: must show 3 (list, rename and
 * delete; a deleted conversation's turns gone from history and never context again; bob can't touch
 * alice's) and must show 4 (export returns every turn; DELETE /chat/history leaves alice with an empty
 * history and conversation list on reload, bob's untouched, and the erase status reaches complete).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ConversationEntry,
  ConversationsResponse,
  EraseStatusBody,
  ExportBody,
  HistoryResponse,
} from '../../contract/http-api';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const PASSWORD = 'LocalDemo-2026!';

let dataDir: string;
let stack: SpawnedStack;
let alice: string;
let bob: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-conversations-'));
  stack = await spawnLocalStack({
    dataDir,
    env: {
      // Short answers, quotas out of reach: this test is about conversations.
      LOCAL_FLEET_ANSWER_TOKENS: '5',
      LOCAL_FLEET_TOKENS_PER_SECOND: '500',
      FREE_PROMPTS_PER_MINUTE: '100',
    },
  });
  const token = async (name: string) => (await login(stack.url, `${name}@example.com`, PASSWORD)).idToken;
  [alice, bob] = [await token('alice'), await token('bob')];
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function call(token: string, method: string, path: string, body?: unknown) {
  return fetch(`${stack.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function prompt(token: string, text: string, conversationId?: string) {
  const response = await call(token, 'POST', '/chat', {
    prompt: text,
    ...(conversationId ? { conversation_id: conversationId } : {}),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { message_id: string; conversation_id: string };
}

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
const history = async (token: string, query = '') =>
  json<HistoryResponse>(await call(token, 'GET', `/chat/history?limit=100${query}`));
const conversationList = async (token: string) =>
  json<ConversationsResponse>(await call(token, 'GET', '/chat/conversations'));

/** How many earlier turns a turn was sent as context: its one "turn ended" log line says (never its text). */
function contextTurnsOf(messageId: string): number | undefined {
  for (const line of stack.output().split('\n')) {
    if (!line.includes(messageId) || !line.includes('turn ended')) continue;
    const parsed = JSON.parse(line.slice(line.indexOf('{'))) as { context_turns?: number };
    return parsed.context_turns;
  }
  return undefined;
}

const LONG_PROMPT =
  'Plan a four-day trip to Lisbon in spring for two people who like food, tiles and long walks by the river';

describe('conversations over HTTP (must show 3)', () => {
  it('lists, renames and deletes; a deleted conversation’s turns leave history and context; bob gets 404', async () => {
    // Prepare: two conversations of alice, one of bob.
    const trip = await prompt(alice, LONG_PROMPT);
    const tripFollowUp = await prompt(alice, 'And where should we eat?', trip.conversation_id);
    const other = await prompt(alice, 'What is a monad?');
    const bobs = await prompt(bob, 'Bob here');

    // Act: list, rename, bob's attempts, delete, then a prompt to the deleted id.
    const listed = await conversationList(alice);
    const renamed = await call(alice, 'PATCH', `/chat/conversations/${trip.conversation_id}`, {
      title: '  Lisbon\n trip ',
    });
    const bobRename = await call(bob, 'PATCH', `/chat/conversations/${trip.conversation_id}`, { title: 'x' });
    const bobDelete = await call(bob, 'DELETE', `/chat/conversations/${trip.conversation_id}`);
    const deleted = await call(alice, 'DELETE', `/chat/conversations/${trip.conversation_id}`);
    const deletedAgain = await call(alice, 'DELETE', `/chat/conversations/${trip.conversation_id}`);
    const afterDelete = await history(alice);
    const ofDeleted = await history(alice, `&conversation_id=${trip.conversation_id}`);
    const reused = await prompt(alice, 'Remind me what we planned?', trip.conversation_id);

    // Assess: the list, newest activity first, titled from the first prompt.
    const [first, second] = listed.conversations;
    expect(listed.conversations).toHaveLength(2);
    expect(first).toMatchObject({ id: other.conversation_id, title: 'What is a monad?', turns: 1 });
    expect(second).toMatchObject({
      id: trip.conversation_id,
      title: 'Plan a four-day trip to Lisbon in spring for two people who…',
      turns: 2,
    });
    expect(second?.created_at && second.updated_at > second.created_at).toBe(true);
    expect(contextTurnsOf(tripFollowUp.message_id)).toBe(1);

    expect(renamed.status).toBe(200);
    expect(await json<ConversationEntry>(renamed)).toMatchObject({
      id: trip.conversation_id,
      title: 'Lisbon trip',
      turns: 2,
    });
    for (const response of [bobRename, bobDelete, deletedAgain]) {
      expect(response.status).toBe(404);
      expect(await json(response)).toEqual({
        error: { code: 'not_found', message: 'No such conversation.' },
      });
    }
    expect((await conversationList(bob)).conversations.map((c) => c.id)).toEqual([bobs.conversation_id]);

    expect(deleted.status).toBe(204);
    expect(afterDelete.chats.map((chat) => chat.conversation_id)).toEqual([other.conversation_id]);
    expect(ofDeleted.chats).toEqual([]);
    expect(contextTurnsOf(reused.message_id)).toBe(0);
    expect((await conversationList(alice)).conversations.map((c) => [c.id, c.turns])).toEqual([
      [trip.conversation_id, 1],
      [other.conversation_id, 1],
    ]);
  }, 60_000);

  it('answers malformed ids, bodies, limits and cursors with a 400 JSON error', async () => {
    const { conversation_id: id } = await prompt(alice, 'Something to rename');
    const responses = [
      await call(alice, 'PATCH', '/chat/conversations/not.an.id', { title: 'x' }),
      await call(alice, 'DELETE', `/chat/conversations/${'x'.repeat(200)}`),
      await call(alice, 'PATCH', `/chat/conversations/${id}`, { title: '   ' }),
      await call(alice, 'PATCH', `/chat/conversations/${id}`, { title: 'x'.repeat(201) }),
      await call(alice, 'PATCH', `/chat/conversations/${id}`, { name: 'x' }),
      await call(alice, 'GET', '/chat/conversations?limit=0'),
      await call(alice, 'GET', '/chat/conversations?limit=many'),
      await call(alice, 'GET', '/chat/conversations?cursor=not-a-cursor'),
    ];

    for (const response of responses) {
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    }
    expect((await call(alice, 'POST', `/chat/conversations/${id}`, {})).status).toBe(405);
  }, 30_000);
});

describe('export and erase (must show 4)', () => {
  it('exports every turn; DELETE /chat/history empties alice’s history and list, not bob’s, and completes', async () => {
    // Prepare
    const kept = await prompt(alice, 'One more before the export');
    const bobBefore = await history(bob);
    const aliceBefore = await history(alice);

    // Act
    const exported = await call(alice, 'GET', '/chat/export');
    const exportBody = await json<ExportBody>(exported);
    const erase = await call(alice, 'DELETE', '/chat/history');
    const eraseBody = await json<EraseStatusBody>(erase);
    // A new session: a fresh token, as after a reload.
    const fresh = (await login(stack.url, 'alice@example.com', PASSWORD)).idToken;
    const afterErase = await history(fresh);
    const listAfter = await conversationList(fresh);
    const exportAfter = await json<ExportBody>(await call(fresh, 'GET', '/chat/export'));
    let status = await json<EraseStatusBody>(await call(fresh, 'GET', '/chat/history/erase'));
    for (let attempt = 0; status.status !== 'complete' && attempt < 100; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await json<EraseStatusBody>(await call(fresh, 'GET', '/chat/history/erase'));
    }
    const afterPrompt = await prompt(fresh, 'A fresh start', kept.conversation_id);

    // Assess: the export has every turn of the history, and the conversations.
    expect(exported.status).toBe(200);
    expect(exportBody.chats.map((chat) => chat.id)).toEqual(aliceBefore.chats.map((chat) => chat.id));
    // The deleted conversation's two turns are gone: four are left.
    expect(exportBody.chats).toHaveLength(4);
    expect(exportBody.chats.some((chat) => chat.user_message === 'One more before the export')).toBe(true);
    expect(exportBody.conversations.map((c) => c.id)).toContain(kept.conversation_id);

    expect(erase.status).toBe(202);
    expect(['erasing', 'complete']).toContain(eraseBody.status);
    expect(afterErase.chats).toEqual([]);
    expect(afterErase.next_cursor).toBeUndefined();
    expect(listAfter.conversations).toEqual([]);
    expect(exportAfter.chats).toEqual([]);
    expect(exportAfter.conversations).toEqual([]);
    expect(status).toEqual({ status: 'complete', erased_before: eraseBody.erased_before });
    expect(contextTurnsOf(afterPrompt.message_id)).toBe(0);
    expect((await history(fresh)).chats.map((chat) => chat.id)).toEqual([afterPrompt.message_id]);

    expect(await history(bob)).toEqual(bobBefore);
    expect(await json<EraseStatusBody>(await call(bob, 'GET', '/chat/history/erase'))).toEqual({
      status: 'none',
    });
  }, 60_000);
});
