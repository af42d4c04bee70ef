import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { DomainError } from '../../../domain/errors';
import { ulid } from '../../../domain/ids';
import type { NewTurn, StoredTurnInput } from '../../../domain/ports';
import type { Turn, TurnOutcome } from '../../../domain/turn';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

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

let clock = Date.UTC(2025, 0, 1);
const nextTime = () => {
  clock += 1000;
  return clock;
};

function newTurn(userId: string, conversationId = 'conv-a'): NewTurn {
  const at = nextTime();
  return {
    userId,
    id: ulid(at),
    conversationId,
    userMessage: `question at ${at}`,
    createdAt: new Date(at).toISOString(),
    server: 'gpu-1',
  };
}

function outcome(overrides: Partial<TurnOutcome> = {}): TurnOutcome {
  return {
    status: 'completed',
    assistantResponse: 'the answer',
    finishReason: 'stop',
    usage: { promptTokens: 12, completionTokens: 34 },
    updatedAt: new Date(nextTime()).toISOString(),
    ...overrides,
  };
}

function storeInput(userId: string, overrides: Partial<StoredTurnInput> = {}): StoredTurnInput {
  const at = nextTime();
  return {
    userId,
    clientId: `client-${randomUUID()}`,
    turnId: ulid(at),
    conversationId: 'conv-s',
    userMessage: 'stored question',
    assistantResponse: 'stored answer',
    createdAt: new Date(at).toISOString(),
    ...overrides,
  };
}

async function expectDomainError(promise: Promise<unknown>, code: DomainError['code']): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  const domainError = error as DomainError;
  expect(domainError.code).toBe(code);
  return domainError;
}

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

describe('start and finish', () => {
  it('moves a started turn to its final state once', async () => {
    const user = randomUUID();
    const turn = newTurn(user);
    await repo.startTurn(turn);

    expect(await repo.getTurn(user, turn.id)).toEqual({
      userId: user,
      id: turn.id,
      conversationId: 'conv-a',
      userMessage: turn.userMessage,
      assistantResponse: '',
      status: 'in_progress',
      createdAt: turn.createdAt,
      updatedAt: turn.createdAt,
      server: 'gpu-1',
    });

    const first = outcome();
    expect(await repo.finishTurn(turn, first)).toBe(true);
    const finished = {
      userId: user,
      id: turn.id,
      conversationId: 'conv-a',
      userMessage: turn.userMessage,
      assistantResponse: 'the answer',
      status: 'completed',
      createdAt: turn.createdAt,
      updatedAt: first.updatedAt,
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 34 },
      server: 'gpu-1',
    };
    expect(await repo.getTurn(user, turn.id)).toEqual(finished);

    // A retry or a sweeper arriving later neither writes nor moves it out of its final state.
    const late = outcome({ status: 'interrupted', assistantResponse: 'other', errorCode: 'timeout' });
    expect(await repo.finishTurn(turn, late)).toBe(false);
    expect(await repo.finishTurn(turn, outcome())).toBe(false);
    expect(await repo.getTurn(user, turn.id)).toEqual(finished);
  });

  it('lets exactly one of two concurrent finishes win', async () => {
    const user = randomUUID();
    const turn = newTurn(user);
    await repo.startTurn(turn);
    const results = await Promise.all([
      repo.finishTurn(turn, outcome({ assistantResponse: 'one' })),
      repo.finishTurn(turn, outcome({ status: 'stopped', assistantResponse: 'two' })),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await repo.getTurn(user, turn.id);
    expect(stored?.assistantResponse).toBe(results[0] ? 'one' : 'two');
  });

  it('refuses to start the same turn twice', async () => {
    const user = randomUUID();
    const turn = newTurn(user);
    await repo.startTurn(turn);
    await expectDomainError(repo.startTurn(turn), 'conflict');
  });

  it('finishes a turn whose start write was lost, and a late start cannot undo it', async () => {
    const user = randomUUID();
    const turn = newTurn(user, 'conv-lost');
    const failed = outcome({ status: 'failed', assistantResponse: 'partial', errorCode: 'upstream_error' });
    expect(await repo.finishTurn(turn, failed)).toBe(true);

    const expected: Turn = {
      userId: user,
      id: turn.id,
      conversationId: 'conv-lost',
      userMessage: turn.userMessage,
      assistantResponse: 'partial',
      status: 'failed',
      createdAt: turn.createdAt,
      updatedAt: failed.updatedAt,
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 34 },
      errorCode: 'upstream_error',
      server: 'gpu-1',
    };
    expect(await repo.getTurn(user, turn.id)).toEqual(expected);
    // It is in the conversation index too (conv written by the update).
    expect((await repo.listTurns(user, { limit: 10, conversationId: 'conv-lost' })).turns).toEqual([
      expected,
    ]);

    await expectDomainError(repo.startTurn(turn), 'conflict');
    expect(await repo.finishTurn(turn, outcome())).toBe(false);
    expect(await repo.getTurn(user, turn.id)).toEqual(expected);
  });

  it('returns undefined for an unknown turn', async () => {
    expect(await repo.getTurn(randomUUID(), ulid(nextTime()))).toBeUndefined();
  });
});

describe('store', () => {
  it('is idempotent on the client id for the same content', async () => {
    const user = randomUUID();
    const input = storeInput(user);
    expect(await repo.storeTurn(input)).toBe('created');
    // A retry derives a new time-ordered turn id; it must not create a second turn.
    const retry = { ...input, turnId: ulid(nextTime()), createdAt: new Date(clock).toISOString() };
    expect(await repo.storeTurn(retry)).toBe('duplicate');

    const { turns } = await repo.listTurns(user, { limit: 10 });
    const expected: Turn = {
      userId: user,
      id: input.clientId,
      conversationId: 'conv-s',
      userMessage: 'stored question',
      assistantResponse: 'stored answer',
      status: 'completed',
      createdAt: input.createdAt,
      updatedAt: input.createdAt,
    };
    expect(turns).toEqual([expected]);
    expect(await repo.getTurn(user, input.clientId)).toEqual(expected);
  });

  it('rejects the same client id with different content', async () => {
    const user = randomUUID();
    const input = storeInput(user);
    await repo.storeTurn(input);
    for (const changed of [
      { assistantResponse: 'another answer' },
      { userMessage: 'another question' },
      { conversationId: 'another-conversation' },
    ]) {
      const error = await expectDomainError(repo.storeTurn({ ...input, ...changed }), 'conflict');
      expect(error.message).toBe('A turn with this id was stored with different content.');
    }
    expect((await repo.listTurns(user, { limit: 10 })).turns.map((turn) => turn.assistantResponse)).toEqual([
      'stored answer',
    ]);
  });

  it('lets the same client id be used by two users', async () => {
    const input = storeInput(randomUUID(), { clientId: 'shared-id' });
    const other = storeInput(randomUUID(), { clientId: 'shared-id', assistantResponse: 'different' });
    expect(await repo.storeTurn(input)).toBe('created');
    expect(await repo.storeTurn(other)).toBe('created');
  });

  it('repairs a crash between the claim and the turn write on retry', async () => {
    const user = randomUUID();
    const input = storeInput(user);
    const crash = new Error('simulated crash before the turn write');
    const flaky = failingOnce(
      db.doc,
      (command) => {
        const sk = command instanceof PutCommand ? command.input.Item?.sk : undefined;
        return typeof sk === 'string' && sk.startsWith('TURN#');
      },
      crash,
    );
    const flakyRepo = new DynamoDbTurnRepository(flaky, table);

    await expect(flakyRepo.storeTurn(input)).rejects.toBe(crash);
    expect((await repo.listTurns(user, { limit: 10 })).turns).toEqual([]);

    const retry = { ...input, turnId: ulid(nextTime()), createdAt: new Date(clock).toISOString() };
    expect(await repo.storeTurn(retry)).toBe('duplicate');
    const { turns } = await repo.listTurns(user, { limit: 10 });
    expect(turns).toHaveLength(1);
    // The repaired turn is the one the first attempt claimed (its sort key and time).
    expect(turns[0]).toMatchObject({ id: input.clientId, createdAt: input.createdAt, status: 'completed' });
    const item = await db.doc.send(
      new GetCommand({ TableName: table, Key: { pk: user, sk: `TURN#${input.turnId}` } }),
    );
    expect(item.Item?.id).toBe(input.clientId);

    expect(await repo.storeTurn(retry)).toBe('duplicate');
    expect((await repo.listTurns(user, { limit: 10 })).turns).toHaveLength(1);
  });

  it('keeps store claims out of history', async () => {
    const user = randomUUID();
    await repo.storeTurn(storeInput(user));
    const turn = newTurn(user);
    await repo.startTurn(turn);
    const { turns } = await repo.listTurns(user, { limit: 10 });
    expect(turns.map((t) => t.status)).toEqual(['in_progress', 'completed']);
  });
});

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

/** A document client whose first command matching `when` fails with `error`; others pass through. */
function failingOnce(
  doc: DynamoDBDocumentClient,
  when: (command: unknown) => boolean,
  error: Error,
): DynamoDBDocumentClient {
  let failed = false;
  const send = (command: unknown) => {
    if (!failed && when(command)) {
      failed = true;
      return Promise.reject(error);
    }
    return (doc.send as (command: unknown) => Promise<unknown>).call(doc, command);
  };
  return { send } as unknown as DynamoDBDocumentClient;
}
