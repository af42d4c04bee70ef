import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyClaims } from '../../../adapters/dynamodb/idempotency-claims';
import { DynamoDbStopFlags } from '../../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { SqsStopDelivery } from '../../../adapters/sqs/stop-inbox';
import { DomainError } from '../../../domain/errors';
import { ulid } from '../../../domain/ids';
import type { NewTurn } from '../../../domain/ports';
import { applyPendingWrite } from '../../../use-cases/persist-parked-write';
import { requestStop } from '../../../use-cases/stop-turn';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let repo: DynamoDbTurnRepository;
const clock = {
  t: Date.UTC(2026, 5, 1),
  now() {
    return this.t;
  },
};

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

// These turns record no stop inbox, so nothing is delivered: a delivery would fail on this closed port.
const stopDelivery = new SqsStopDelivery(
  new SQSClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }),
  'test-stop-',
);

describe('stop flags', () => {
  it('lets only the owner stop an in-progress turn', async () => {
    // Prepare
    const flags = new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, clock);
    const owner = { userId: randomUUID(), tier: 'free' as const };
    const other = { userId: randomUUID(), tier: 'premium' as const };
    const turn = newTurn(owner.userId, clock.t);
    await repo.startTurn(turn);
    // Act + Assess
    // Another user's stop lands in their own partition only: the owner's turn is not stopped by it.
    await requestStop(
      { repository: repo, stopFlags: flags, stopDelivery, clock, maxTurnMs: 240_000 },
      other,
      turn.id,
    );
    expect(await flags.isRequested(owner.userId, turn.id)).toBe(false);
    await expect(
      requestStop(
        { repository: repo, stopFlags: flags, stopDelivery, clock, maxTurnMs: 240_000 },
        owner,
        turn.id,
      ),
    ).resolves.toEqual({ status: 'stopping' });
    expect(await flags.isRequested(owner.userId, turn.id)).toBe(true);
  });

  it('refuses to stop a turn that already ended', async () => {
    const flags = new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, clock);
    const owner = { userId: randomUUID(), tier: 'free' as const };
    const turn = newTurn(owner.userId, clock.t);
    await repo.startTurn(turn);
    await repo.finishTurn(turn, { status: 'completed', assistantResponse: 'a', updatedAt: turn.createdAt });
    const error = await requestStop(
      { repository: repo, stopFlags: flags, stopDelivery, clock, maxTurnMs: 240_000 },
      owner,
      turn.id,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('conflict');
  });
});

describe('idempotency claims', () => {
  it('claims a key once per user and reports the holder afterwards', async () => {
    const claims = new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, clock);
    const user = randomUUID();
    const first = { messageId: 'm1', conversationId: 'c1', requestHash: 'h1', claimedAt: clock.t };
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
    await claims.claim(user, 'k', {
      messageId: 'old',
      conversationId: 'c',
      requestHash: 'h',
      claimedAt: local.t,
    });
    local.t += 25 * 3600 * 1000;
    expect(await claims.get(user, 'k')).toBeUndefined();
    expect(
      await claims.claim(user, 'k', {
        messageId: 'new',
        conversationId: 'c',
        requestHash: 'h',
        claimedAt: local.t,
      }),
    ).toBeUndefined();
    expect((await claims.get(user, 'k'))?.messageId).toBe('new');
  });
});

describe('idempotency claims under lost answers', () => {
  it('counts its own claim as claimed now when the write was applied but its answer was lost', async () => {
    const claims = new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, clock);
    const user = randomUUID();
    const mine = { messageId: 'mine', conversationId: 'c', requestHash: 'h', claimedAt: clock.t };
    expect(await claims.claim(user, 'k', mine)).toBeUndefined();
    // The SDK's retry of the same write meets it: still ours.
    expect(await claims.claim(user, 'k', mine)).toBeUndefined();
  });

  it('takes a key over only from the claim named, and releases only its own claim', async () => {
    const claims = new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, clock);
    const user = randomUUID();
    const first = { messageId: 'first', conversationId: 'c', requestHash: 'h', claimedAt: clock.t };
    await claims.claim(user, 'k', first);
    expect(await claims.takeOver(user, 'k', 'someone-else', { ...first, messageId: 'x' })).toBe(false);
    expect(await claims.takeOver(user, 'k', 'first', { ...first, messageId: 'second' })).toBe(true);
    await claims.release(user, 'k', 'first');
    expect((await claims.get(user, 'k'))?.messageId).toBe('second');
    await claims.release(user, 'k', 'second');
    expect(await claims.get(user, 'k')).toBeUndefined();
  });
});

describe('stop before the turn is visible', () => {
  it('records a stop for a recent id of the caller whose turn has not landed yet, and 404s old or foreign-looking ids', async () => {
    const flags = new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, clock);
    const deps = { repository: repo, stopFlags: flags, stopDelivery, clock, maxTurnMs: 240_000 };
    const owner = { userId: randomUUID(), tier: 'free' as const };
    const pending = ulid(clock.t - 1000);
    await expect(requestStop(deps, owner, pending)).resolves.toEqual({ status: 'stopping' });
    expect(await flags.isRequested(owner.userId, pending)).toBe(true);
    await expect(requestStop(deps, owner, ulid(clock.t - 300_000))).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(requestStop(deps, owner, 'not-a-ulid')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('parked writes', () => {
  it('creates a turn from a parked start, once', async () => {
    const turn = newTurn(randomUUID(), clock.t);
    expect(await applyPendingWrite(repo, { turn })).toBe(true);
    expect(await applyPendingWrite(repo, { turn })).toBe(false);
    expect((await repo.getTurn(turn.userId, turn.id))?.status).toBe('in_progress');
  });

  it("lets a parked real outcome replace the sweeper's interrupted, but nothing else", async () => {
    const turn = newTurn(randomUUID(), clock.t);
    await repo.startTurn(turn);
    await repo.finishTurn(turn, { status: 'interrupted', assistantResponse: '', updatedAt: turn.createdAt });
    const outcome = {
      status: 'completed' as const,
      assistantResponse: 'the real answer',
      updatedAt: turn.createdAt,
    };
    expect(await applyPendingWrite(repo, { turn, outcome })).toBe(true);
    expect((await repo.getTurn(turn.userId, turn.id))?.assistantResponse).toBe('the real answer');
    expect(await applyPendingWrite(repo, { turn, outcome: { ...outcome, status: 'failed' } })).toBe(false);
    expect((await repo.getTurn(turn.userId, turn.id))?.status).toBe('completed');
  });

  it('discards only a turn still in progress', async () => {
    const live = newTurn(randomUUID(), clock.t);
    const ended = newTurn(live.userId, clock.t + 1);
    await repo.startTurn(live);
    await repo.startTurn(ended);
    await repo.finishTurn(ended, { status: 'completed', assistantResponse: 'a', updatedAt: ended.createdAt });
    await repo.discardTurn(live.userId, live.id);
    await repo.discardTurn(ended.userId, ended.id);
    await repo.discardTurn(live.userId, 'never-existed');
    expect(await repo.getTurn(live.userId, live.id)).toBeUndefined();
    expect((await repo.getTurn(ended.userId, ended.id))?.status).toBe('completed');
  });
});

describe('interrupting a turn', () => {
  it('marks only a turn still in_progress, and a late real outcome cannot overwrite it', async () => {
    // Prepare: a live turn, an ended one, and an id no turn was written under.
    const user = randomUUID();
    const live = newTurn(user, clock.t);
    const ended = newTurn(user, clock.t + 1);
    for (const turn of [live, ended]) await repo.startTurn(turn);
    await repo.finishTurn(ended, {
      status: 'completed',
      assistantResponse: 'done',
      updatedAt: ended.createdAt,
    });
    const at = new Date(clock.t + 600_000).toISOString();
    // Act
    const marked = [
      await repo.interruptTurn(user, live.id, at),
      await repo.interruptTurn(user, ended.id, at),
      await repo.interruptTurn(user, ulid(clock.t + 2), at),
      await repo.interruptTurn(user, live.id, at),
    ];
    // Assess: once, only the live one; no turn created for the unknown id.
    expect(marked).toEqual([true, false, false, false]);
    expect(await repo.getTurn(user, live.id)).toMatchObject({
      status: 'interrupted',
      errorCode: 'interrupted',
      updatedAt: at,
    });
    expect((await repo.getTurn(user, ended.id))?.status).toBe('completed');
    expect((await repo.listTurns(user, { limit: 10 })).turns).toHaveLength(2);
    const late = { status: 'completed' as const, assistantResponse: 'x', updatedAt: at };
    expect(await repo.finishTurn(live, late)).toBe(false);
    // A parked real outcome may still replace the sweeper's guess.
    expect(await repo.finishTurn(live, late, { replaceInterrupted: true })).toBe(true);
  });
});
