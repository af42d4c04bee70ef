/**
 * API keys: what is stored of one (never the key: its SHA-256 is the lookup), who it acts as, and the
 * port the key routes and the authenticator use (adapters/dynamodb/api-key-store.ts).
 */
import type { Tier } from '../contract/turn';

export interface ApiKeyRecord {
  readonly id: string;
  readonly ownerId: string;
  /** The owner's tier as their verified token last said (at creation, refreshed by each call to /chat/keys). */
  readonly tier: Tier;
  readonly name: string;
  readonly prefix: string;
  /** SHA-256 of the key, hex: what a request's key is looked up by. */
  readonly hash: string;
  readonly createdAt: string;
  readonly lastUsedAt?: string;
}

/** Who a presented key acts as. */
export interface ApiKeyOwner {
  readonly keyId: string;
  readonly ownerId: string;
  readonly tier: Tier;
}

export interface ApiKeyStore {
  /** Stores the key (its owner's record and its lookup by hash). */
  create(record: ApiKeyRecord): Promise<void>;
  /** The owner's keys, oldest first. */
  list(ownerId: string): Promise<ApiKeyRecord[]>;
  /** Revokes one of the owner's keys; false when the owner has no such key. */
  revoke(ownerId: string, keyId: string): Promise<boolean>;
  /** The key's owner by its hash; undefined for a key that does not exist (or no longer does). */
  ownerOf(hash: string): Promise<ApiKeyOwner | undefined>;
  /** Records a use of the key (best effort; never for a revoked key). */
  touch(owner: ApiKeyOwner, at: string): Promise<void>;
  /** Sets the tier every key of the owner acts with (the owner's verified tier changed). */
  retier(record: ApiKeyRecord, tier: Tier): Promise<void>;
}
