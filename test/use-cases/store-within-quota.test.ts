import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConversationRepository } from '../../adapters/dynamodb/conversation-repository';
import { DynamoDbQuotaCounter } from '../../adapters/dynamodb/quota-counter';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { ENTITLEMENTS } from '../../contract/entitlements';
import { systemClock } from '../../domain/ports';
import type { Caller } from '../../domain/turn';
import { type StoreDeps, storeWithinQuota } from '../../use-cases/store-within-quota';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

let db: TestDynamoDb;
let deps: StoreDeps;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  db = await startTestDynamoDb();
  deps = {
    repository: new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable),
    conversations: new DynamoDbConversationRepository(db.doc, db.tableNames.ChatTable),
    quota: new DynamoDbQuotaCounter(db.doc, db.tableNames.ChatTable),
    clock: systemClock,
    log: silent,
  };
});
afterAll(() => db?.close());

describe('storeWithinQuota', () => {
  it('stores up to the day’s bytes, counts a duplicate once, then refuses with rate_limited', async () => {
    // Prepare: answers of 100,000 bytes; free tier keeps 2,000,000 a day.
    const caller: Caller = { userId: `user-${randomUUID()}`, tier: 'free' };
    const answer = 'x'.repeat(99_999);
    const fits = Math.floor(ENTITLEMENTS.free.storedBytesPerDay / 100_000);

    // Act
    const first = await storeWithinQuota(deps, caller, {
      id: 'same',
      userMessage: 'q',
      assistantResponse: answer,
    });
    const duplicate = await storeWithinQuota(deps, caller, {
      id: 'same',
      userMessage: 'q',
      assistantResponse: answer,
    });
    for (let i = 1; i < fits; i++) {
      await storeWithinQuota(deps, caller, { userMessage: 'q', assistantResponse: answer });
    }
    const over = storeWithinQuota(deps, caller, { userMessage: 'q', assistantResponse: answer });

    // Assess
    expect(first.created).toBe(true);
    expect(duplicate.created).toBe(false);
    await expect(over).rejects.toMatchObject({ code: 'rate_limited', details: { reason: 'stored_bytes' } });
  });

  it('stores uncounted when the counter fails', async () => {
    // Prepare
    const failing = {
      ...deps,
      quota: {
        acquire: deps.quota.acquire.bind(deps.quota),
        release: deps.quota.release.bind(deps.quota),
        refund: deps.quota.refund.bind(deps.quota),
        addStoredBytes: async () => Promise.reject(new Error('throttled')),
        refundStoredBytes: deps.quota.refundStoredBytes.bind(deps.quota),
      },
    };

    // Act
    const stored = await storeWithinQuota(
      failing,
      { userId: 'u-open', tier: 'free' },
      {
        userMessage: 'q',
        assistantResponse: 'a',
      },
    );

    // Assess
    expect(stored.created).toBe(true);
  });
});
