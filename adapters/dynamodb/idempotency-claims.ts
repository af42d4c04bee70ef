import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, IdempotencyClaim, IdempotencyClaims } from '../../domain/ports';
import { idempotencyClaimItem, idempotencySortKey, liveIdempotencyClaimFromItem } from './chat-items';
import { isConditionalCheckFailed } from './errors';

/** How long an Idempotency-Key is remembered (as Stripe does): retries come within minutes, not days. */
const CLAIM_TTL_SECONDS = 24 * 3600;

/**
 * Idempotency-Key claims of POST /chat, one item per key in the caller's partition (so keys are per
 * user). No `conv` attribute: claims never appear in a conversation. DynamoDB's TTL deletes expired
 * claims eventually (dynalite never does), so reads and the claim condition also treat them as absent.
 */
export class DynamoDbIdempotencyClaims implements IdempotencyClaims {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async get(userId: string, key: string): Promise<IdempotencyClaim | undefined> {
    const output = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userId, sk: idempotencySortKey(key) },
        ConsistentRead: true,
      }),
    );
    return output.Item
      ? liveIdempotencyClaimFromItem(output.Item, Math.floor(this.clock.now() / 1000))
      : undefined;
  }

  async claim(userId: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyClaim | undefined> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(userId, key, claim),
          ConditionExpression: 'attribute_not_exists(pk) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.get(userId, key);
      if (!existing) throw new Error('Idempotency claim vanished after a failed conditional put');
      // Our own claim: the write was applied but its answer lost (a 500 or time-out), and the SDK's retry
      // then met it. It is claimed now, by us.
      return existing.messageId === claim.messageId ? undefined : existing;
    }
  }

  async release(userId: string, key: string, messageId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: idempotencySortKey(key) },
          ConditionExpression: 'message_id = :message_id',
          ExpressionAttributeValues: { ':message_id': messageId },
        }),
      );
    } catch (error) {
      // Held by another attempt by now: not ours to free.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async takeOver(
    userId: string,
    key: string,
    previousMessageId: string,
    claim: IdempotencyClaim,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(userId, key, claim),
          ConditionExpression: 'message_id = :previous',
          ExpressionAttributeValues: { ':previous': previousMessageId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private item(userId: string, key: string, claim: IdempotencyClaim) {
    return idempotencyClaimItem(userId, key, claim, Math.floor(this.clock.now() / 1000) + CLAIM_TTL_SECONDS);
  }
}
