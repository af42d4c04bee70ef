/** Conversation items, the erase mark and the turn eraser, on dynalite. */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECENT_TURNS_AFTER_TRIM, RECENT_TURNS_KEPT } from '../../../adapters/dynamodb/conversation-items';
import {
  DynamoDbConversationRepository,
  DynamoDbErasureMarks,
} from '../../../adapters/dynamodb/conversation-repository';
import { DynamoDbTurnEraser } from '../../../adapters/dynamodb/turn-eraser';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { ulid } from '../../../domain/ids';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';
import { expectDomainError, newTurn, nextTime, outcome, storeInput } from './turn-fixtures';

let db: TestDynamoDb;
let conversations: DynamoDbConversationRepository;
let marks: DynamoDbErasureMarks;
let eraser: DynamoDbTurnEraser;
let turns: DynamoDbTurnRepository;

beforeAll(async () => {
  db = await startTestDynamoDb();
  const table = db.tableNames.ChatTable;
  conversations = new DynamoDbConversationRepository(db.doc, table);
  marks = new DynamoDbErasureMarks(db.doc, table);
  eraser = new DynamoDbTurnEraser(db.doc, table);
  turns = new DynamoDbTurnRepository(db.doc, table);
});

afterAll(async () => {
  await db?.close();
});

const at = () => new Date(nextTime()).toISOString();

/** Every key of the user's partition, for checking what is left. */
async function partitionKeys(userId: string): Promise<string[]> {
  const output = await db.doc.send(
    new QueryCommand({
      TableName: db.tableNames.ChatTable,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': userId },
      ConsistentRead: true,
    }),
  );
  return (output.Items ?? []).map((item) => String(item.sk));
}

async function finishedTurns(userId: string, conversationId: string, count: number) {
  for (let index = 0; index < count; index++) {
    const turn = newTurn(userId, conversationId);
    await turns.startTurn(turn);
    await turns.finishTurn(turn, outcome());
  }
}

describe('recordTurn', () => {
  it('creates the conversation with the first title, then advances it, telling whether it existed', async () => {
    // Prepare
    const user = randomUUID();
    const first = at();
    const second = at();
    const [firstId, secondId] = [ulid(1), ulid(2)];

    // Act
    const created = await conversations.recordTurn(user, 'c1', 'First title', first, firstId);
    const advanced = await conversations.recordTurn(user, 'c1', 'Second prompt', second, secondId);

    // Assess
    expect(created).toEqual({ existed: false });
    expect(advanced).toEqual({ existed: true, createdAt: first, recentTurnIds: [firstId] });
    const page = await conversations.list(user, { limit: 10 });
    expect(page.conversations).toEqual([
      { id: 'c1', title: 'First title', createdAt: first, updatedAt: second, turns: 2 },
    ]);
  });
});

describe('recent turn ids', () => {
  it('keeps the newest ids, newest first, and trims the list back once it grows past what it keeps', async () => {
    // Prepare
    const user = randomUUID();
    const ids = Array.from({ length: RECENT_TURNS_KEPT + 1 }, (_, n) => ulid(1_000 + n));

    // Act
    let last: Awaited<ReturnType<typeof conversations.recordTurn>> | undefined;
    for (const id of ids) last = await conversations.recordTurn(user, 'long', 'Long', at(), id);
    // The trim runs off the turn's path: the next start sees its result.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = await conversations.recordTurn(user, 'long', 'Long', at(), ulid(5_000));

    // Assess
    expect(last).toMatchObject({ existed: true, recentTurnIds: ids.slice(0, -1).reverse() });
    expect(after).toMatchObject({
      existed: true,
      recentTurnIds: ids.slice(-RECENT_TURNS_AFTER_TRIM).reverse(),
    });
  });
});

describe('list', () => {
  it('pages newest activity first with a cursor, over only the caller’s conversations', async () => {
    // Prepare
    const user = randomUUID();
    const other = randomUUID();
    for (const id of ['a', 'b', 'c', 'd', 'e'])
      await conversations.recordTurn(user, id, id, at(), ulid(Date.now()));
    await conversations.recordTurn(user, 'b', 'b', at(), ulid(Date.now()));
    await conversations.recordTurn(other, 'x', 'x', at(), ulid(Date.now()));

    // Act
    const first = await conversations.list(user, { limit: 2 });
    const second = await conversations.list(user, { limit: 2, cursor: first.nextCursor });
    const third = await conversations.list(user, { limit: 2, cursor: second.nextCursor });

    // Assess
    expect(first.conversations.map((c) => c.id)).toEqual(['b', 'e']);
    expect(second.conversations.map((c) => c.id)).toEqual(['d', 'c']);
    expect(third.conversations.map((c) => c.id)).toEqual(['a']);
    expect(third.nextCursor).toBeUndefined();
    await expectDomainError(conversations.list(user, { limit: 2, cursor: 'garbage!' }), 'invalid_request');
  });
});

describe('rename and remove', () => {
  it('rename only an existing conversation of the caller; remove says whether there was one', async () => {
    // Prepare
    const alice = randomUUID();
    const bob = randomUUID();
    const started = at();
    await conversations.recordTurn(alice, 'mine', 'Old', started, ulid(Date.now()));

    // Act
    const renamed = await conversations.rename(alice, 'mine', 'New title');
    const bobsTry = await conversations.rename(bob, 'mine', 'Hijacked');
    const bobsRemove = await conversations.remove(bob, 'mine');
    const removed = await conversations.remove(alice, 'mine');
    const again = await conversations.remove(alice, 'mine');

    // Assess
    expect(renamed).toMatchObject({ id: 'mine', title: 'New title', updatedAt: started, turns: 1 });
    expect(bobsTry).toBeUndefined();
    expect(bobsRemove).toBe(false);
    expect(removed).toBe(true);
    expect(again).toBe(false);
    expect(await conversations.rename(alice, 'mine', 'Gone')).toBeUndefined();
    // A rename never created an item for bob.
    expect(await partitionKeys(bob)).toEqual([]);
  });
});

describe('the turn eraser', () => {
  it('deletes one conversation’s turns in batches (more than 25), only those before the bound', async () => {
    // Prepare
    const user = randomUUID();
    await finishedTurns(user, 'long', 60);
    await finishedTurns(user, 'kept', 2);
    const before = at();
    await finishedTurns(user, 'long', 1); // the id reused after the delete: a new turn, kept

    // Act
    const result = await eraser.erase({ userId: user, conversationId: 'long', before }, Date.now() + 30_000);

    // Assess
    expect(result).toEqual({ deleted: 60, done: true });
    const left = await turns.listTurns(user, { limit: 100 });
    expect(left.turns.map((turn) => turn.conversationId).sort()).toEqual(['kept', 'kept', 'long']);
  });

  it('erases the whole history before the bound with its store claims, and stops at a deadline', async () => {
    // Prepare
    const user = randomUUID();
    await finishedTurns(user, 'a', 30);
    await turns.storeTurn(storeInput(user));
    await conversations.recordTurn(user, 'a', 'a', at(), ulid(Date.now()));
    const before = at();
    await finishedTurns(user, 'after', 1);

    // Act
    const stopped = await eraser.erase({ userId: user, before }, Date.now());
    const result = await eraser.erase({ userId: user, before }, Date.now() + 30_000);

    // Assess
    expect(stopped).toEqual({ deleted: 0, done: false });
    expect(result).toEqual({ deleted: 32, done: true });
    const keys = await partitionKeys(user);
    expect(keys.filter((key) => key.startsWith('TURN#'))).toHaveLength(1);
    expect(keys.some((key) => key.startsWith('STORE#'))).toBe(false);
    // Conversation items are not the eraser's: removeAll deletes them.
    expect(await conversations.removeAll(user)).toBe(1);
    expect((await conversations.list(user, { limit: 10 })).conversations).toEqual([]);
  });
});

describe('erase marks', () => {
  it('begin erasing, complete only the latest erase', async () => {
    // Prepare
    const user = randomUUID();
    const firstErase = at();
    const secondErase = at();

    // Act
    const none = await marks.get(user);
    await marks.begin(user, firstErase);
    await marks.begin(user, secondErase);
    await marks.complete(user, firstErase);
    const stillErasing = await marks.get(user);
    await marks.complete(user, secondErase);

    // Assess
    expect(none).toBeUndefined();
    expect(stillErasing).toEqual({ erasedBefore: secondErase, status: 'erasing' });
    expect(await marks.get(user)).toEqual({ erasedBefore: secondErase, status: 'complete' });
  });
});
