/** Behaviour that dynalite cannot produce on demand: short Query pages and throttling. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';

type Send = (command: unknown) => Promise<unknown>;

const stubDoc = (send: Send) => ({ send }) as unknown as DynamoDBDocumentClient;

const item = (n: number) => ({
  pk: 'user-1',
  sk: `TURN#${String(n).padStart(26, '0')}`,
  id: String(n).padStart(26, '0'),
  conversation_id: 'c',
  conv: 'user-1#c',
  user_message: `q${n}`,
  assistant_response: `a${n}`,
  status: 'completed',
  created_at: '2025-01-01T00:00:00.000Z',
  updated_at: '2025-01-01T00:00:00.000Z',
});

describe('listTurns against short Query responses', () => {
  it('keeps querying until it has limit + 1 items, then cuts the page at limit', async () => {
    // Newest first: 9, 8, 7, 6, 5 — delivered 1, 2, 2 per response, each with a LastEvaluatedKey.
    const responses = [[item(9)], [item(8), item(7)], [item(6), item(5)]];
    const limits: (number | undefined)[] = [];
    const startKeys: unknown[] = [];
    const repo = new DynamoDbTurnRepository(
      stubDoc(async (command) => {
        if (!(command instanceof QueryCommand)) throw new Error('unexpected command');
        limits.push(command.input.Limit);
        startKeys.push(command.input.ExclusiveStartKey);
        const items = responses.shift() ?? [];
        const last = items.at(-1);
        return { Items: items, LastEvaluatedKey: last && { pk: last.pk, sk: last.sk } };
      }),
      'Chat',
    );
    const page = await repo.listTurns('user-1', { limit: 3 });
    expect(page.turns.map((turn) => turn.userMessage)).toEqual(['q9', 'q8', 'q7']);
    expect(limits).toEqual([4, 3, 1]);
    expect(startKeys[1]).toEqual({ pk: 'user-1', sk: item(9).sk });
    expect(page.nextCursor).toBeDefined();

    // The cursor resumes after the last returned item, not after the extra one fetched.
    const seen: unknown[] = [];
    const next = new DynamoDbTurnRepository(
      stubDoc(async (command) => {
        if (command instanceof QueryCommand) seen.push(command.input.ExclusiveStartKey);
        return { Items: [] };
      }),
      'Chat',
    );
    await next.listTurns('user-1', { limit: 3, cursor: page.nextCursor ?? '' });
    expect(seen).toEqual([{ pk: 'user-1', sk: item(7).sk }]);
  });

  it('ends without a cursor when the partition runs out before limit + 1', async () => {
    const responses = [[item(9)], [item(8)]];
    const repo = new DynamoDbTurnRepository(
      stubDoc(async () => {
        const items = responses.shift() ?? [];
        return {
          Items: items,
          ...(responses.length > 0 ? { LastEvaluatedKey: { pk: 'user-1', sk: 'x' } } : {}),
        };
      }),
      'Chat',
    );
    const page = await repo.listTurns('user-1', { limit: 3 });
    expect(page.turns).toHaveLength(2);
    expect(page.nextCursor).toBeUndefined();
  });
});

describe('service errors', () => {
  it('propagates throttling and 5xx errors unchanged', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const repo = new DynamoDbTurnRepository(
      stubDoc(() => Promise.reject(throttled)),
      'Chat',
    );
    const turn = {
      userId: 'u',
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      conversationId: 'c',
      userMessage: 'q',
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    const outcome = {
      status: 'completed',
      assistantResponse: 'a',
      updatedAt: '2025-01-01T00:00:01.000Z',
    } as const;
    await expect(repo.startTurn(turn)).rejects.toBe(throttled);
    await expect(repo.finishTurn(turn, outcome)).rejects.toBe(throttled);
    await expect(
      repo.storeTurn({
        userId: 'u',
        clientId: 'x',
        turnId: turn.id,
        conversationId: 'c',
        userMessage: 'q',
        assistantResponse: 'a',
        createdAt: turn.createdAt,
      }),
    ).rejects.toBe(throttled);
    await expect(repo.getTurn('u', turn.id)).rejects.toBe(throttled);
    await expect(repo.listTurns('u', { limit: 5 })).rejects.toBe(throttled);
  });
});
