/** Turns in the chat table: start and finish under conditions, and /chat/store's idempotent stores. */
import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { ulid } from '../../../domain/ids';
import type { Turn } from '../../../domain/turn';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';
import { expectDomainError, newTurn, nextTime, outcome, storeInput } from './turn-fixtures';

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
    const retriedAt = nextTime();
    const retry = { ...input, turnId: ulid(retriedAt), createdAt: new Date(retriedAt).toISOString() };
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

    const retriedAt = nextTime();
    const retry = { ...input, turnId: ulid(retriedAt), createdAt: new Date(retriedAt).toISOString() };
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
