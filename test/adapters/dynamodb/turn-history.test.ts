/** History pages of the chat table: newest first, by user or conversation, with opaque cursors. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import type { NewTurn } from '../../../domain/ports';
import type { Turn } from '../../../domain/turn';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';
import { expectDomainError, newTurn } from './turn-fixtures';

let db: TestDynamoDb;
let repo: DynamoDbTurnRepository;
let table: string;

beforeAll(async () => {
  db = await startTestDynamoDb();
  table = db.tableNames.ChatTable;
  repo = new DynamoDbTurnRepository(db.doc, table);
});

afterAll(async () => {
  await db?.close();
});

async function listAll(userId: string, limit: number, conversationId?: string): Promise<Turn[][]> {
  const pages: Turn[][] = [];
  let cursor: string | undefined;
  do {
    const page = await repo.listTurns(userId, {
      limit,
      ...(cursor === undefined ? {} : { cursor }),
      ...(conversationId === undefined ? {} : { conversationId }),
    });
    pages.push(page.turns);
    cursor = page.nextCursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor !== undefined);
  return pages;
}

describe('history', () => {
  it('pages a user newest first without duplicates or gaps', async () => {
    const user = randomUUID();
    const started: NewTurn[] = [];
    for (let i = 0; i < 7; i++) {
      const turn = newTurn(user, i % 2 === 0 ? 'conv-a' : 'conv-b');
      await repo.startTurn(turn);
      started.push(turn);
    }
    const expectedIds = started.map((turn) => turn.id).reverse();

    const pages = await listAll(user, 3);
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((turn) => turn.id)).toEqual(expectedIds);

    // An exact multiple of the limit: the last full page says there is nothing more.
    const even = await listAll(user, 7);
    expect(even.map((page) => page.length)).toEqual([7]);
    const single = await listAll(user, 1);
    expect(single.flat().map((turn) => turn.id)).toEqual(expectedIds);
  });

  it('filters by conversation', async () => {
    const user = randomUUID();
    const byConversation: Record<string, string[]> = { 'conv-a': [], 'conv-b': [] };
    for (let i = 0; i < 5; i++) {
      const turn = newTurn(user, i % 2 === 0 ? 'conv-a' : 'conv-b');
      await repo.startTurn(turn);
      byConversation[turn.conversationId]?.unshift(turn.id);
    }
    const pagesA = await listAll(user, 2, 'conv-a');
    expect(pagesA.map((page) => page.length)).toEqual([2, 1]);
    expect(pagesA.flat().map((turn) => turn.id)).toEqual(byConversation['conv-a']);
    expect(pagesA.flat().every((turn) => turn.conversationId === 'conv-a')).toBe(true);

    const pagesB = await listAll(user, 1, 'conv-b');
    expect(pagesB.flat().map((turn) => turn.id)).toEqual(byConversation['conv-b']);

    expect((await repo.listTurns(user, { limit: 5, conversationId: 'conv-none' })).turns).toEqual([]);
  });

  it('keeps users apart', async () => {
    const alice = randomUUID();
    const bob = randomUUID();
    const aliceTurns = [newTurn(alice), newTurn(alice), newTurn(alice)];
    const bobTurn = newTurn(bob);
    for (const turn of [...aliceTurns, bobTurn]) await repo.startTurn(turn);

    expect((await repo.listTurns(bob, { limit: 10 })).turns.map((turn) => turn.id)).toEqual([bobTurn.id]);
    expect(
      (await repo.listTurns(bob, { limit: 10, conversationId: 'conv-a' })).turns.map((turn) => turn.id),
    ).toEqual([bobTurn.id]);
    expect(await repo.getTurn(bob, aliceTurns[0]?.id ?? '')).toBeUndefined();

    // Alice's cursors are useless to Bob.
    const aliceCursor = (await repo.listTurns(alice, { limit: 1 })).nextCursor;
    const aliceConvCursor = (await repo.listTurns(alice, { limit: 1, conversationId: 'conv-a' })).nextCursor;
    expect(aliceCursor).toBeDefined();
    expect(aliceConvCursor).toBeDefined();
    await expectDomainError(repo.listTurns(bob, { limit: 10, cursor: aliceCursor ?? '' }), 'invalid_request');
    await expectDomainError(
      repo.listTurns(bob, { limit: 10, cursor: aliceConvCursor ?? '', conversationId: 'conv-a' }),
      'invalid_request',
    );
  });

  it('rejects cursors from another query or garbled ones as invalid_request', async () => {
    const user = randomUUID();
    for (let i = 0; i < 3; i++) await repo.startTurn(newTurn(user, i === 0 ? 'conv-b' : 'conv-a'));
    const tableCursor = (await repo.listTurns(user, { limit: 1 })).nextCursor ?? '';
    const convCursor = (await repo.listTurns(user, { limit: 1, conversationId: 'conv-a' })).nextCursor ?? '';
    expect(tableCursor).not.toBe('');
    expect(convCursor).not.toBe('');

    // A cursor only fits the query that produced it.
    await expectDomainError(repo.listTurns(user, { limit: 1, cursor: convCursor }), 'invalid_request');
    await expectDomainError(
      repo.listTurns(user, { limit: 1, cursor: tableCursor, conversationId: 'conv-a' }),
      'invalid_request',
    );
    await expectDomainError(
      repo.listTurns(user, { limit: 1, cursor: convCursor, conversationId: 'conv-b' }),
      'invalid_request',
    );

    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const garbled = [
      'not a cursor!',
      '%%%',
      Buffer.from('not json').toString('base64url'),
      encode(null),
      encode([user, 'TURN#X']),
      encode('TURN#X'),
      encode({ pk: user }),
      encode({ pk: user, sk: 'STORE#abc' }),
      encode({ pk: user, sk: 'TURN#' }),
      encode({ pk: user, sk: 42 }),
      encode({ pk: user, sk: 'TURN#01ARZ3NDEKTSV4RRFFQ69G5FAV', extra: 1 }),
      encode({ pk: user, sk: `TURN#${'x'.repeat(2000)}` }),
      `${tableCursor.slice(0, -3)}`,
      'x'.repeat(10_000),
    ];
    for (const cursor of garbled) {
      await expectDomainError(repo.listTurns(user, { limit: 2, cursor }), 'invalid_request');
    }
    // A well-formed cursor of the caller's own is accepted even if no item has that key.
    const page = await repo.listTurns(user, { limit: 2, cursor: encode({ pk: user, sk: 'TURN#~' }) });
    expect(page.turns).toHaveLength(2);
  });

  it('rejects an out-of-range limit as invalid_request', async () => {
    for (const limit of [0, -1, 1.5, 1001, Number.NaN]) {
      await expectDomainError(repo.listTurns(randomUUID(), { limit }), 'invalid_request');
    }
  });
});
