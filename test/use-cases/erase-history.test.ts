/** The erase's asynchronous part: an erase job that runs out of time queues its continuation, then completes. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbConversationRepository,
  DynamoDbErasureMarks,
} from '../../adapters/dynamodb/conversation-repository';
import { DynamoDbTurnEraser } from '../../adapters/dynamodb/turn-eraser';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { type EraseScope, systemClock } from '../../domain/ports';
import { runEraseJob } from '../../use-cases/erase-history';
import { listVisibleHistory } from '../../use-cases/visible-history';
import { newTurn, outcome } from '../adapters/dynamodb/turn-fixtures';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

let db: TestDynamoDb;
let turns: DynamoDbTurnRepository;
let marks: DynamoDbErasureMarks;

beforeAll(async () => {
  db = await startTestDynamoDb();
  turns = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
  marks = new DynamoDbErasureMarks(db.doc, db.tableNames.ChatTable);
});
afterAll(() => db?.close());

describe('runEraseJob', () => {
  it('hides erased turns at once, re-queues itself when out of time, and completes the mark when done', async () => {
    // Prepare: three turns, then the erase mark (as DELETE /chat/history writes it first).
    const user = randomUUID();
    for (let index = 0; index < 3; index++) {
      const turn = newTurn(user);
      await turns.startTurn(turn);
      await turns.finishTurn(turn, outcome());
    }
    const scope: EraseScope = { userId: user, before: new Date().toISOString() };
    await marks.begin(user, scope.before);
    const queued: EraseScope[] = [];
    const deps = {
      marks,
      eraser: new DynamoDbTurnEraser(db.doc, db.tableNames.ChatTable),
      eraseJobs: { enqueue: async (next: EraseScope) => void queued.push(next) },
      clock: systemClock,
    };
    const caller = { userId: user, tier: 'free' } as const;

    // Act
    const history = { repository: turns, marks, clock: systemClock, interruptedAfterMs: 360_000 };
    const hidden = await listVisibleHistory(history, caller, { limit: 10 });
    const outOfTime = await runEraseJob(deps, scope, 0);
    const statusMidway = await marks.get(user);
    const finished = await runEraseJob(deps, scope);

    // Assess
    expect(hidden.turns).toEqual([]);
    expect(hidden.nextCursor).toBeUndefined();
    expect(outOfTime).toEqual({ deleted: 0, done: false });
    expect(queued).toEqual([scope]);
    expect(statusMidway?.status).toBe('erasing');
    expect(finished).toEqual({ deleted: 3, done: true });
    expect(queued).toHaveLength(1);
    expect(await marks.get(user)).toEqual({ erasedBefore: scope.before, status: 'complete' });
    expect((await turns.listTurns(user, { limit: 10 })).turns).toEqual([]);
    // Conversation items are deleted by the request itself, before the 202 (eraseHistory).
    expect(
      (await new DynamoDbConversationRepository(db.doc, db.tableNames.ChatTable).list(user, { limit: 5 }))
        .conversations,
    ).toEqual([]);
  });
});
