/**
 * API keys: created (the key shown once, only its SHA-256 kept), listed, revoked, and resolved to the
 * caller they act as. A key acts as its owner with the tier the owner's verified token last showed:
 * taken at creation, and refreshed whenever the owner calls /chat/keys with a Cognito token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { API_KEY_PREFIX, API_KEY_SHOWN_CHARS, MAX_API_KEYS_PER_USER } from '../contract/api-keys';
import type { ApiKeyOwner, ApiKeyRecord, ApiKeyStore } from '../domain/api-keys';
import { DomainError, errorName } from '../domain/errors';
import { ulid } from '../domain/ids';
import type { Clock, Log } from '../domain/ports';
import type { Caller } from '../domain/turn';

/** SHA-256 of a key, hex: a key has 256 random bits, so a fast hash is enough (no salt, no KDF). */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export interface ApiKeyDeps {
  readonly store: ApiKeyStore;
  readonly clock: Clock;
  readonly log: Log;
}

/** POST /chat/keys: the new key, and the only time it is shown. */
export async function createApiKey(
  deps: ApiKeyDeps,
  caller: Caller,
  name: string | undefined,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const existing = await deps.store.list(caller.userId);
  if (existing.length >= MAX_API_KEYS_PER_USER) {
    throw new DomainError(
      'conflict',
      `You already have ${MAX_API_KEYS_PER_USER} API keys; revoke one before creating another.`,
    );
  }
  const now = deps.clock.now();
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  const id = ulid(now);
  const record: ApiKeyRecord = {
    id,
    ownerId: caller.userId,
    tier: caller.tier,
    name: name ?? `key ${existing.length + 1}`,
    prefix: key.slice(0, API_KEY_SHOWN_CHARS),
    hash: hashApiKey(key),
    createdAt: new Date(now).toISOString(),
  };
  await deps.store.create(record);
  await refreshTiers(deps, caller, existing);
  return { record, key };
}

/** GET /chat/keys: the caller's keys; any that act with a tier the caller no longer has are re-tiered. */
export async function listApiKeys(deps: ApiKeyDeps, caller: Caller): Promise<ApiKeyRecord[]> {
  const keys = await deps.store.list(caller.userId);
  await refreshTiers(deps, caller, keys);
  return keys.map((key) => ({ ...key, tier: caller.tier }));
}

/** DELETE /chat/keys/{id}: not one of the caller's keys → 404. */
export async function revokeApiKey(deps: ApiKeyDeps, caller: Caller, keyId: string): Promise<void> {
  if (!(await deps.store.revoke(caller.userId, keyId))) {
    throw new DomainError('not_found', 'You have no API key with this id.');
  }
}

async function refreshTiers(deps: ApiKeyDeps, caller: Caller, keys: readonly ApiKeyRecord[]) {
  for (const key of keys) {
    if (key.tier !== caller.tier) await deps.store.retier(key, caller.tier);
  }
}

export interface ApiKeyResolverDeps extends ApiKeyDeps {
  /** How long what was read of a key is trusted (API_KEY_CACHE_SECONDS): revocation takes effect within it. */
  readonly cacheMs: number;
  /** Entries kept at most; the oldest leave first. */
  readonly maxEntries?: number;
}

interface CacheEntry {
  readonly owner: ApiKeyOwner | undefined;
  readonly until: number;
}

/**
 * Resolves presented keys to their callers, with this container's cache of key → owner: a key costs one
 * read per container per cache period, not one per request. Unknown keys are cached too, so a client
 * retrying a bad key does not read each time.
 */
export class ApiKeyResolver {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly deps: ApiKeyResolverDeps) {}

  /** The caller the key acts as; throws unauthorized for a key that does not exist or was revoked. */
  async callerFor(key: string): Promise<Caller & { readonly keyId: string }> {
    const hash = hashApiKey(key);
    const now = this.deps.clock.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until <= now) {
      entry = { owner: await this.lookUp(hash), until: now + this.deps.cacheMs };
      this.remember(hash, entry);
      if (entry.owner) this.touch(entry.owner, now);
    }
    if (!entry.owner) throw new DomainError('unauthorized', 'The API key is not valid.');
    return { userId: entry.owner.ownerId, tier: entry.owner.tier, keyId: entry.owner.keyId };
  }

  private async lookUp(hash: string): Promise<ApiKeyOwner | undefined> {
    try {
      return await this.deps.store.ownerOf(hash);
    } catch (error) {
      // Only key callers depend on this read: Cognito tokens never reach it.
      this.deps.log.warn('API key lookup failed', { error: errorName(error) });
      throw new DomainError('internal_error', 'The API key could not be checked; please try again.');
    }
  }

  private remember(hash: string, entry: CacheEntry) {
    this.cache.delete(hash);
    this.cache.set(hash, entry);
    const max = this.deps.maxEntries ?? 10_000;
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= max) break;
      this.cache.delete(oldest);
    }
  }

  /** Last use, to the cache period: off the request's path, at most once per key per period. */
  private touch(owner: ApiKeyOwner, now: number) {
    this.deps.store.touch(owner, new Date(now).toISOString()).catch((error: unknown) => {
      this.deps.log.warn('API key last use not recorded', { key_id: owner.keyId, error: errorName(error) });
    });
  }
}
