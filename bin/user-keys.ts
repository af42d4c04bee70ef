/**
 * The API keys of a user whose tier `npm run users` changed (bin/users.ts): each key carries its owner's
 * tier (use-cases/api-keys.ts), so the command re-tiers them in the chat table, and the change reaches
 * keys within API_KEY_CACHE_SECONDS instead of waiting for the owner's next call to /chat/keys.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbApiKeyStore } from '../adapters/dynamodb/api-key-store';
import { createDocumentClient } from '../adapters/dynamodb/clients';
import type { Tier } from '../contract/turn';
import { createLocalDynamoDbClient } from '../local/emulators/dynamodb';

/** Where the chat table is: the local stack's DynamoDB API, or AWS's (default credentials and region). */
export interface ChatTableLocation {
  readonly tableName: string;
  /** A local endpoint; absent on AWS. */
  readonly endpoint?: string;
}

/** Sets `tier` on every key the user holds; the number of keys. */
export async function retierApiKeys(
  location: ChatTableLocation,
  userId: string,
  tier: Tier,
): Promise<number> {
  const client = location.endpoint ? createLocalDynamoDbClient(location.endpoint) : new DynamoDBClient({});
  try {
    const store = new DynamoDbApiKeyStore(createDocumentClient(client), location.tableName);
    const keys = await store.list(userId);
    for (const key of keys) if (key.tier !== tier) await store.retier(key, tier);
    return keys.length;
  } finally {
    client.destroy();
  }
}
