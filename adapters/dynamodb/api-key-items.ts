/**
 * The API key items of the chat table (the layout beside chat-items.ts):
 *
 * Owner's record: pk = <user id>, sk = APIKEY#<key id>: id, name, prefix, hash, tier, created_at,
 *                 last_used_at. What GET /chat/keys lists (one Query of the owner's partition).
 * Lookup:         pk = APIKEYHASH#<sha256 of the key>, sk = APIKEYHASH: owner, key_id, tier. A partition
 *                 of its own per key, read by hash (one GetItem, cached by each container).
 *
 * No `conv`, no TURN# prefix: never in history or a conversation.
 */
import type { Tier } from '../../contract/turn';
import type { ApiKeyOwner, ApiKeyRecord } from '../../domain/api-keys';

export const API_KEY_PREFIX_SK = 'APIKEY#';
export const API_KEY_LOOKUP_SK = 'APIKEYHASH';

export const apiKeySortKey = (keyId: string) => `${API_KEY_PREFIX_SK}${keyId}`;
export const apiKeyLookupKey = (hash: string) => ({
  pk: `${API_KEY_LOOKUP_SK}#${hash}`,
  sk: API_KEY_LOOKUP_SK,
});

export function apiKeyRecordItem(record: ApiKeyRecord) {
  return {
    pk: record.ownerId,
    sk: apiKeySortKey(record.id),
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    hash: record.hash,
    tier: record.tier,
    created_at: record.createdAt,
  };
}

export function apiKeyLookupItem(record: ApiKeyRecord) {
  return { ...apiKeyLookupKey(record.hash), owner: record.ownerId, key_id: record.id, tier: record.tier };
}

const isTier = (value: unknown): value is Tier => value === 'free' || value === 'premium';

function requiredString(item: Record<string, unknown>, name: string): string {
  const value = item[name];
  if (typeof value !== 'string') throw new Error(`API key item without ${name}`);
  return value;
}

export function apiKeyRecordFromItem(item: Record<string, unknown>): ApiKeyRecord {
  const tier = item.tier;
  if (!isTier(tier)) throw new Error('API key item without a tier');
  const lastUsedAt = item.last_used_at;
  return {
    id: requiredString(item, 'id'),
    ownerId: requiredString(item, 'pk'),
    tier,
    name: requiredString(item, 'name'),
    prefix: requiredString(item, 'prefix'),
    hash: requiredString(item, 'hash'),
    createdAt: requiredString(item, 'created_at'),
    ...(typeof lastUsedAt === 'string' ? { lastUsedAt } : {}),
  };
}

export function apiKeyOwnerFromItem(item: Record<string, unknown>): ApiKeyOwner {
  const tier = item.tier;
  if (!isTier(tier)) throw new Error('API key lookup item without a tier');
  return { keyId: requiredString(item, 'key_id'), ownerId: requiredString(item, 'owner'), tier };
}
