/**
 * API keys over an in-memory store: minting (shown once, stored as a hash), the per-container cache that
 * bounds revocation by its period, the tier kept with the key and refreshed by the owner's verified token,
 * and a failing key store that refuses key callers only.
 */
import { describe, expect, it, vi } from 'vitest';
import { API_KEY_PREFIX, MAX_API_KEYS_PER_USER } from '../../contract/api-keys';
import type { Tier } from '../../contract/turn';
import type { ApiKeyOwner, ApiKeyRecord, ApiKeyStore } from '../../domain/api-keys';
import { DomainError } from '../../domain/errors';
import {
  ApiKeyResolver,
  createApiKey,
  hashApiKey,
  listApiKeys,
  revokeApiKey,
} from '../../use-cases/api-keys';

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

/** The store's semantics in memory; `reads` counts lookups by hash, `failing` makes them throw. */
class MemoryKeyStore implements ApiKeyStore {
  readonly records = new Map<string, ApiKeyRecord>();
  reads = 0;
  touches: string[] = [];
  failing = false;
  async create(record: ApiKeyRecord) {
    this.records.set(record.id, record);
  }
  async list(ownerId: string) {
    return [...this.records.values()].filter((record) => record.ownerId === ownerId);
  }
  async revoke(ownerId: string, keyId: string) {
    const record = this.records.get(keyId);
    if (record?.ownerId !== ownerId) return false;
    return this.records.delete(keyId);
  }
  async ownerOf(hash: string): Promise<ApiKeyOwner | undefined> {
    this.reads++;
    if (this.failing) throw new Error('throttled');
    const record = [...this.records.values()].find((candidate) => candidate.hash === hash);
    return record && { keyId: record.id, ownerId: record.ownerId, tier: record.tier };
  }
  async touch(owner: ApiKeyOwner, at: string) {
    this.touches.push(`${owner.keyId}@${at}`);
  }
  async retier(record: ApiKeyRecord, tier: Tier) {
    const stored = this.records.get(record.id);
    if (stored) this.records.set(record.id, { ...stored, tier });
  }
}

function setup(cacheMs = 60_000) {
  const store = new MemoryKeyStore();
  let now = Date.UTC(2026, 11, 3);
  const clock = { now: () => now };
  const deps = { store, clock, log };
  const resolver = new ApiKeyResolver({ ...deps, cacheMs });
  return { store, deps, resolver, advance: (ms: number) => (now += ms) };
}

const alice = { userId: 'alice', tier: 'free' } as const;

describe('creating an API key', () => {
  it('returns a high-entropy key once, and stores only its SHA-256 with the owner and the verified tier', async () => {
    const { deps, store } = setup();
    const { key, record } = await createApiKey(deps, alice, 'laptop');
    expect(key).toMatch(new RegExp(`^${API_KEY_PREFIX}[A-Za-z0-9_-]{43}$`));
    expect(record).toMatchObject({
      ownerId: 'alice',
      tier: 'free',
      name: 'laptop',
      prefix: key.slice(0, 12),
    });
    expect(record.hash).toBe(hashApiKey(key));
    expect(JSON.stringify([...store.records.values()])).not.toContain(key);
  });

  it(`refuses more than ${MAX_API_KEYS_PER_USER} keys per user`, async () => {
    const { deps } = setup();
    for (let i = 0; i < MAX_API_KEYS_PER_USER; i++) await createApiKey(deps, alice, undefined);
    await expect(createApiKey(deps, alice, undefined)).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('resolving a presented key', () => {
  it('acts as the owner with the stored tier, reading the store once per cache period', async () => {
    const { deps, store, resolver, advance } = setup(60_000);
    const { key, record } = await createApiKey(deps, alice, undefined);
    const first = await resolver.callerFor(key);
    advance(59_000);
    await resolver.callerFor(key);
    expect(first).toEqual({ userId: 'alice', tier: 'free', keyId: record.id });
    expect(store.reads).toBe(1);
    // Its use is recorded once per read, not per request.
    expect(store.touches).toHaveLength(1);
  });

  it('refuses a revoked key once the cache period has passed, and never an unknown key', async () => {
    const { deps, resolver, advance } = setup(60_000);
    const { key, record } = await createApiKey(deps, alice, undefined);
    await resolver.callerFor(key);
    await revokeApiKey(deps, alice, record.id);
    advance(60_000);
    await expect(resolver.callerFor(key)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(resolver.callerFor(`${API_KEY_PREFIX}guess`)).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });

  it('lets nobody revoke another user’s key (404)', async () => {
    const { deps } = setup();
    const { record } = await createApiKey(deps, alice, undefined);
    await expect(revokeApiKey(deps, { userId: 'mallory', tier: 'free' }, record.id)).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('takes the owner’s new tier once the owner calls /chat/keys with a token that carries it', async () => {
    const { deps, resolver, advance } = setup(60_000);
    const { key } = await createApiKey(deps, { userId: 'bob', tier: 'premium' }, undefined);
    expect((await resolver.callerFor(key)).tier).toBe('premium');
    await listApiKeys(deps, { userId: 'bob', tier: 'free' });
    advance(60_000);
    expect((await resolver.callerFor(key)).tier).toBe('free');
  });

  it('refuses key callers with a retryable 500 when the store fails, and reads again on the next request', async () => {
    const { deps, store, resolver } = setup();
    const { key } = await createApiKey(deps, alice, undefined);
    store.failing = true;
    const error = await resolver.callerFor(key).catch((caught: unknown) => caught);
    store.failing = false;
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('internal_error');
    expect((await resolver.callerFor(key)).userId).toBe('alice');
  });
});
