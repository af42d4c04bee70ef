/** History and export as the user sees them: a turn whose process died reads as interrupted. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbErasureMarks } from '../../adapters/dynamodb/conversation-repository';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { ulid } from '../../domain/ids';
import { exportTurns, type HistoryDeps, listVisibleHistory } from '../../use-cases/visible-history';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

let db: TestDynamoDb;
let deps: HistoryDeps;
const NOW = Date.UTC(2026, 5, 1, 12);

beforeAll(async () => {
  db = await startTestDynamoDb();
  deps = {
    repository: new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable),
    marks: new DynamoDbErasureMarks(db.doc, db.tableNames.ChatTable),
    clock: { now: () => NOW },
    interruptedAfterMs: 360_000,
  };
});
afterAll(() => db?.close());

describe('read repair of history and export', () => {
  it('shows an in_progress turn past the longest stream as interrupted, a recent one as in_progress', async () => {
    // Prepare: a turn left in_progress by a dead process 10 minutes ago, and one streaming now.
    const userId = randomUUID();
    for (const at of [NOW - 600_000, NOW - 1_000]) {
      await deps.repository.startTurn({
        userId,
        id: ulid(at),
        conversationId: 'c',
        userMessage: 'q',
        createdAt: new Date(at).toISOString(),
      });
    }
    const caller = { userId, tier: 'free' } as const;

    // Act
    const page = await listVisibleHistory(deps, caller, { limit: 10 });
    const exported = [];
    for await (const turns of exportTurns(deps, caller)) exported.push(...turns);

    // Assess: newest first; nothing was written, the sweeper still has its evidence.
    const statuses = ['in_progress', 'interrupted'];
    expect(page.turns.map((turn) => turn.status)).toEqual(statuses);
    expect(page.turns[1]?.errorCode).toBe('interrupted');
    expect(exported.map((turn) => turn.status)).toEqual(statuses);
    const stored = await deps.repository.listTurns(userId, { limit: 10 });
    expect(stored.turns.map((turn) => turn.status)).toEqual(['in_progress', 'in_progress']);
  });
});
