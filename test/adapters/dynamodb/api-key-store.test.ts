/** API keys in the chat table, on dynalite: the owner's record and the lookup by hash, in step. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbApiKeyStore } from '../../../adapters/dynamodb/api-key-store';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import type { ApiKeyRecord } from '../../../domain/api-keys';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let store: DynamoDbApiKeyStore;

beforeAll(async () => {
  db = await startTestDynamoDb();
  store = new DynamoDbApiKeyStore(db.doc, db.tableNames.ChatTable);
});

afterAll(async () => {
  await db?.close();
});

const record = (ownerId: string, id: string): ApiKeyRecord => ({
  id,
  ownerId,
  tier: 'premium',
  name: `key ${id}`,
  prefix: 'sk-chat-abcd',
  hash: randomUUID().replaceAll('-', ''),
  createdAt: '2026-12-03T12:00:00.000Z',
});

describe('DynamoDbApiKeyStore', () => {
  it('finds a created key by its hash, lists it in its owner’s partition, and records its last use', async () => {
    const owner = randomUUID();
    const key = record(owner, '01A');
    await store.create(key);
    await store.touch({ keyId: key.id, ownerId: owner, tier: key.tier }, '2026-12-03T12:05:00.000Z');
    expect(await store.ownerOf(key.hash)).toEqual({ keyId: '01A', ownerId: owner, tier: 'premium' });
    expect(await store.list(owner)).toEqual([{ ...key, lastUsedAt: '2026-12-03T12:05:00.000Z' }]);
    expect(await store.list(randomUUID())).toEqual([]);
  });

  it('revokes: the hash finds nobody, the list forgets it, a late touch does not bring it back', async () => {
    const owner = randomUUID();
    const key = record(owner, '01B');
    await store.create(key);
    expect(await store.revoke(randomUUID(), key.id)).toBe(false);
    expect(await store.revoke(owner, key.id)).toBe(true);
    await store.touch({ keyId: key.id, ownerId: owner, tier: key.tier }, '2026-12-03T12:06:00.000Z');
    expect(await store.ownerOf(key.hash)).toBeUndefined();
    expect(await store.list(owner)).toEqual([]);
    expect(await store.revoke(owner, key.id)).toBe(false);
  });

  it('re-tiers both items', async () => {
    const owner = randomUUID();
    const key = record(owner, '01C');
    await store.create(key);
    await store.retier(key, 'free');
    expect((await store.ownerOf(key.hash))?.tier).toBe('free');
    expect((await store.list(owner))[0]?.tier).toBe('free');
  });

  it('keeps keys out of the owner’s history', async () => {
    const owner = randomUUID();
    await store.create(record(owner, '01D'));
    const history = await new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable).listTurns(owner, {
      limit: 50,
    });
    expect(history.turns).toEqual([]);
  });
});
