/**
 * API keys in the chat table (api-key-items.ts has the layout): two single-item writes per key, no
 * transaction (dynalite has none, and a half-made key is harmless: see create and revoke).
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Tier } from '../../contract/turn';
import type { ApiKeyOwner, ApiKeyRecord, ApiKeyStore } from '../../domain/api-keys';
import {
  API_KEY_PREFIX_SK,
  apiKeyLookupItem,
  apiKeyLookupKey,
  apiKeyOwnerFromItem,
  apiKeyRecordFromItem,
  apiKeyRecordItem,
  apiKeySortKey,
} from './api-key-items';
import { isConditionalCheckFailed } from './errors';

export class DynamoDbApiKeyStore implements ApiKeyStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The owner's record first: a lookup never exists without one, so every working key is listed (and revocable). */
  async create(record: ApiKeyRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: apiKeyRecordItem(record),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: apiKeyLookupItem(record),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async list(ownerId: string): Promise<ApiKeyRecord[]> {
    const output = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': ownerId, ':prefix': API_KEY_PREFIX_SK },
        // A user holds a handful of keys (MAX_API_KEYS_PER_USER): one page.
        ConsistentRead: true,
      }),
    );
    return (output.Items ?? []).map(apiKeyRecordFromItem);
  }

  /** The lookup first: from its deletion on the key authenticates nobody; then the record leaves the list. */
  async revoke(ownerId: string, keyId: string): Promise<boolean> {
    const found = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: ownerId, sk: apiKeySortKey(keyId) },
        ConsistentRead: true,
      }),
    );
    if (!found.Item) return false;
    const record = apiKeyRecordFromItem(found.Item);
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: apiKeyLookupKey(record.hash) }));
    await this.doc.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: ownerId, sk: apiKeySortKey(keyId) } }),
    );
    return true;
  }

  async ownerOf(hash: string): Promise<ApiKeyOwner | undefined> {
    // Strongly consistent: a key used the moment it was created is found, a revoked one is not (1 RCU).
    const output = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: apiKeyLookupKey(hash), ConsistentRead: true }),
    );
    return output.Item ? apiKeyOwnerFromItem(output.Item) : undefined;
  }

  async touch(owner: ApiKeyOwner, at: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: owner.ownerId, sk: apiKeySortKey(owner.keyId) },
          UpdateExpression: 'SET last_used_at = :at',
          // Never recreate a revoked key's record.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async retier(record: ApiKeyRecord, tier: Tier): Promise<void> {
    for (const Key of [apiKeyLookupKey(record.hash), { pk: record.ownerId, sk: apiKeySortKey(record.id) }]) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: 'SET tier = :tier',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':tier': tier },
          }),
        );
      } catch (error) {
        // Revoked meanwhile: nothing to re-tier.
        if (!isConditionalCheckFailed(error)) throw error;
      }
    }
  }
}
