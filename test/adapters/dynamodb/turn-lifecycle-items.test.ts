import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyClaims } from '../../../adapters/dynamodb/idempotency-claims';
import { DynamoDbStopFlags } from '../../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository, inflightKey } from '../../../adapters/dynamodb/turn-repository';
import { DomainError } from '../../../domain/errors';
import { ulid } from '../../../domain/ids';
import type { NewTurn } from '../../../domain/ports';
import { parsePendingWrite, requestStop, sweepInterruptedTurns } from '../../../domain/turn-lifecycle';
import { INFLIGHT_SHARDS } from '../../../lib/resources';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let repo: DynamoDbTurnRepository;
const clock = {
  t: Date.UTC(2026, 5, 1),
  now() {
    return this.t;
  },
};
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  db = await startTestDynamoDb();
  repo = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
});

afterAll(async () => {
  await db?.close();
});

function newTurn(userId: string, at: number): NewTurn {
  return {
    userId,
    id: ulid(at),
    conversationId: 'c',
    userMessage: 'q',
    createdAt: new Date(at).toISOString(),
  };
}

describe('stop flags', () => {
  it('lets only the owner stop an in-progress turn', async () => {
    // Prepare
    const flags = new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, clock);
    const owner = { userId: randomUUID(), tier: 'free' as const };
    const other = { userId: randomUUID(), tier: 'premium' as const };
    const turn = newTurn(owner.userId, clock.t);
    await repo.startTurn(turn);
    // Act + Assess
    await expect(requestStop(repo, flags, other, turn.id)).rejects.toMatchObject({ code: 'not_found' });
    expect(await flags.isRequested(owner.userId, turn.id)).toBe(false);
    await expect(requestStop(repo, flags, owner, turn.id)).resolves.toEqual({ status: 'stopping' });
    expect(await flags.isRequested(owner.userId, turn.id)).toBe(true);
    expect(await flags.isRequested(other.userId, turn.id)).toBe(false);
  });

  it('refuses to stop a turn that already ended', async () => {
    const flags = new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, clock);
    const owner = { userId: randomUUID(), tier: 'free' as const };
    const turn = newTurn(owner.userId, clock.t);
    await repo.startTurn(turn);
    await repo.finishTurn(turn, { status: 'completed', assistantResponse: 'a', updatedAt: turn.createdAt });
    const error = await requestStop(repo, flags, owner, turn.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('conflict');
  });
});

describe('idempotency claims', () => {
  it('claims a key once per user and reports the holder afterwards', async () => {
    const claims = new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, clock);
    const user = randomUUID();
    const first = { messageId: 'm1', conversationId: 'c1', requestHash: 'h1' };
    expect(await claims.claim(user, 'key-1', first)).toBeUndefined();
    expect(await claims.claim(user, 'key-1', { ...first, messageId: 'm2' })).toEqual(first);
    expect(await claims.get(user, 'key-1')).toEqual(first);
    // Keys are per user.
    expect(await claims.claim(randomUUID(), 'key-1', first)).toBeUndefined();
  });

  it('treats an expired claim as absent, although dynalite never deletes it', async () => {
    const local = {
      t: clock.t,
      now() {
        return this.t;
      },
    };
    const claims = new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, local);
    const user = randomUUID();
    await claims.claim(user, 'k', { messageId: 'old', conversationId: 'c', requestHash: 'h' });
    local.t += 25 * 3600 * 1000;
    expect(await claims.get(user, 'k')).toBeUndefined();
    expect(
      await claims.claim(user, 'k', { messageId: 'new', conversationId: 'c', requestHash: 'h' }),
    ).toBeUndefined();
    expect((await claims.get(user, 'k'))?.messageId).toBe('new');
  });
});

describe('in-flight index and the sweeper', () => {
  it('spreads in-flight turns over the shards', () => {
    const shards = new Set(Array.from({ length: 400 }, (_, i) => inflightKey(ulid(1_000_000 + i))));
    expect(shards.size).toBe(INFLIGHT_SHARDS);
  });

  it('marks only turns older than the cut-off interrupted, and leaves ended turns alone', async () => {
    // Prepare: three turns of one user long ago, one of them finished, and one fresh turn.
    const user = randomUUID();
    const longAgo = Date.UTC(2020, 0, 1);
    const stale1 = newTurn(user, longAgo);
    const stale2 = newTurn(user, longAgo + 1);
    const ended = newTurn(user, longAgo + 2);
    const fresh = newTurn(user, clock.t);
    for (const turn of [stale1, stale2, ended, fresh]) await repo.startTurn(turn);
    await repo.finishTurn(ended, {
      status: 'completed',
      assistantResponse: 'done',
      updatedAt: ended.createdAt,
    });
    // Act
    const marked = await sweepInterruptedTurns({ repository: repo, clock, log }, 60_000);
    // Assess
    expect(marked).toBeGreaterThanOrEqual(2);
    expect((await repo.getTurn(user, stale1.id))?.status).toBe('interrupted');
    expect((await repo.getTurn(user, stale2.id))?.status).toBe('interrupted');
    expect((await repo.getTurn(user, ended.id))?.status).toBe('completed');
    expect((await repo.getTurn(user, fresh.id))?.status).toBe('in_progress');
    // A second sweep finds nothing more of these, and a late real outcome cannot overwrite "interrupted".
    expect(await repo.listStaleTurns(clock.t - 60_000, 100)).not.toContainEqual(
      expect.objectContaining({ id: stale1.id }),
    );
    expect(
      await repo.finishTurn(stale1, {
        status: 'completed',
        assistantResponse: 'x',
        updatedAt: fresh.createdAt,
      }),
    ).toBe(false);
  });
});

describe('parsePendingWrite', () => {
  it('accepts what the chat function enqueues and rejects anything else', () => {
    const write = {
      turn: newTurn('u', clock.t),
      outcome: { status: 'completed', assistantResponse: 'a', updatedAt: new Date(clock.t).toISOString() },
    };
    expect(parsePendingWrite(JSON.stringify(write))).toEqual(write);
    for (const body of [
      'null',
      '{}',
      JSON.stringify({ ...write, outcome: { ...write.outcome, status: 'in_progress' } }),
    ]) {
      expect(() => parsePendingWrite(body)).toThrow();
    }
    expect(() => parsePendingWrite('not json')).toThrow();
  });
});
