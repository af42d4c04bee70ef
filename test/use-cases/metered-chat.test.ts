/**
 * POST /chat under quotas (MeteredChat): ChatService on dynalite and one simulated server, counted by the
 * real DynamoDB counter, or by a failing one.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbQuotaCounter } from '../../adapters/dynamodb/quota-counter';
import { quotaSortKey } from '../../adapters/dynamodb/quota-items';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import type { ChatRequest } from '../../domain/chat-request';
import { DomainError } from '../../domain/errors';
import { ulid } from '../../domain/ids';
import { type Log, type QuotaCounter, systemClock } from '../../domain/ports';
import { windowStart } from '../../domain/quota';
import type { Caller } from '../../domain/turn';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import { MeteredChat, type MeteredTurn } from '../../use-cases/metered-chat';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';
import { meteredChat, oneServerChat, ROOMY_QUOTAS } from './support/one-server-chat';

let db: TestDynamoDb;
let gpu: SimulatedServerHandle;

beforeAll(async () => {
  db = await startTestDynamoDb();
  gpu = await startSimulatedServer({
    id: 'gpu-a',
    tokensPerSecond: 500,
    answerTokens: 10,
    timeToFirstTokenMs: 5,
  });
});

afterAll(async () => {
  await gpu?.close();
  await db?.close();
});

const THREE = { ...ROOMY_QUOTAS, promptsPerWindow: { free: 3, premium: 500 } };
const caller = (): Caller => ({ userId: `user-${randomUUID()}`, tier: 'free' });
const prompt = (key?: string): ChatRequest => ({
  prompt: 'hello',
  stream: false,
  ...(key === undefined ? {} : { idempotencyKey: key }),
});

/** Reads the turn to its end, as a response would. */
async function drain(metered: MeteredTurn): Promise<void> {
  if (!metered.turn) throw metered.error;
  for await (const _ of metered.turn.events()) {
    // the answer is not the point here
  }
}

async function windowItem(userId: string) {
  const sk = quotaSortKey(windowStart(Date.now(), ROOMY_QUOTAS.windowSeconds * 1000));
  return (await db.doc.send(new GetCommand({ TableName: db.tableNames.ChatTable, Key: { pk: userId, sk } })))
    .Item;
}

describe('MeteredChat.begin', () => {
  it('counts a prompt, and frees its stream slot when the turn ends', async () => {
    // Prepare
    const chat = meteredChat(db, oneServerChat(db, gpu), { policy: THREE });
    const who = caller();

    // Act
    const metered = await chat.begin(who, prompt());
    const during = await windowItem(who.userId);
    await drain(metered);

    // Assess
    expect(metered.rateLimit).toMatchObject({ limit: 3, remaining: 2 });
    expect(during).toMatchObject({ prompts: 1, streams: 1 });
    // The slot is named by the turn's id: a slot never released names the turn whose process died.
    expect(during).toHaveProperty(`s_${metered.turn?.messageId}`);
    expect(await windowItem(who.userId)).toMatchObject({ prompts: 1, streams: 0 });
  });

  it('interrupts, in the background, the turns of slots the grant found abandoned', async () => {
    // Prepare: a turn whose process died (in_progress, its slot expired), and a counter that reports it.
    const who = caller();
    const repository = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
    const dead = ulid(Date.now() - 600_000);
    await repository.startTurn({
      userId: who.userId,
      id: dead,
      conversationId: 'c',
      userMessage: 'q',
      createdAt: new Date(Date.now() - 600_000).toISOString(),
    });
    const real = new DynamoDbQuotaCounter(db.doc, db.tableNames.ChatTable);
    const reporting: QuotaCounter = {
      release: (...args) => real.release(...args),
      refund: (...args) => real.refund(...args),
      addStoredBytes: (...args) => real.addStoredBytes(...args),
      refundStoredBytes: (...args) => real.refundStoredBytes(...args),
      acquire: async (...args) => {
        const decision = await real.acquire(...args);
        return decision.granted ? { ...decision, abandoned: [dead] } : decision;
      },
    };
    const chat = meteredChat(db, oneServerChat(db, gpu), { quota: reporting });

    // Act
    await drain(await chat.begin(who, prompt()));

    // Assess
    await expect
      .poll(async () => (await repository.getTurn(who.userId, dead))?.status, { timeout: 2_000 })
      .toBe('interrupted');
  });

  it('counts an Idempotency-Key retry once, and replays it even when the quota is spent', async () => {
    // Prepare
    const chat = meteredChat(db, oneServerChat(db, gpu), { policy: THREE });
    const who = caller();
    const first = await chat.begin(who, prompt('key-1'));
    await drain(first);

    // Act
    const retry = await chat.begin(who, prompt('key-1'));
    await drain(await chat.begin(who, prompt()));
    await drain(await chat.begin(who, prompt()));
    const spent = await chat.begin(who, prompt());
    const lateRetry = await chat.begin(who, prompt('key-1'));

    // Assess
    expect(first.rateLimit.remaining).toBe(2);
    expect(retry.turn?.messageId).toBe(first.turn?.messageId);
    expect(retry.rateLimit.remaining).toBe(2);
    expect(spent.error).toMatchObject({ code: 'rate_limited', details: { reason: 'window' } });
    expect(lateRetry.turn?.messageId).toBe(first.turn?.messageId);
    expect((await windowItem(who.userId))?.prompts).toBe(3);
  });

  it('refunds a prompt refused by admission after it was counted', async () => {
    // Prepare: a fleet that refuses everyone.
    const busy = {
      begin: async () => {
        throw new DomainError('overloaded', 'busy', { retry_after_seconds: 10 });
      },
      replay: async () => undefined,
    };
    const chat = new MeteredChat({
      chat: busy,
      quota: new DynamoDbQuotaCounter(db.doc, db.tableNames.ChatTable),
      turns: new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable),
      policy: THREE,
      clock: systemClock,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const who = caller();

    // Act
    const refused = await chat.begin(who, prompt());

    // Assess
    expect(refused.error).toMatchObject({ code: 'overloaded' });
    expect(refused.rateLimit.remaining).toBe(3);
    expect(await windowItem(who.userId)).toMatchObject({ prompts: 0, streams: 0 });
  });

  it('admits uncounted, with a warning, when the counter fails (static stability)', async () => {
    // Prepare
    const warnings: string[] = [];
    const log: Log = {
      info: () => undefined,
      warn: (message) => warnings.push(message),
      error: () => undefined,
    };
    const throttled: QuotaCounter = {
      acquire: async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      },
      release: async () => undefined,
      refund: async () => undefined,
      addStoredBytes: async () => ({ granted: true }),
      refundStoredBytes: async () => undefined,
    };
    const chat = meteredChat(db, oneServerChat(db, gpu), { policy: THREE, quota: throttled, log });

    // Act
    const metered = await chat.begin(caller(), prompt());
    await drain(metered);

    // Assess
    expect(metered.turn?.serverId).toBe('gpu-a');
    expect(metered.rateLimit.limit).toBe(3);
    expect(metered.rateLimit.remaining).toBeUndefined();
    expect(warnings).toEqual(['quota counter failed; prompt admitted uncounted']);
  });
});
