import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock, StopFlags } from '../../domain/ports';
import { stopFlagItem, stopSortKey } from './chat-items';

/** Stop requests live one hour: far longer than any stream, then DynamoDB's TTL removes them. */
const STOP_TTL_SECONDS = 3600;

/**
 * A stop request is its own tiny item, not a flag on the turn: the streaming function polls it every
 * half second, and a read is billed by item size, so polling a turn that holds a long prompt would
 * cost up to 8x more per poll.
 */
export class DynamoDbStopFlags implements StopFlags {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: Clock,
  ) {}

  async request(userId: string, messageId: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: stopFlagItem(
          userId,
          messageId,
          this.clock.now(),
          Math.floor(this.clock.now() / 1000) + STOP_TTL_SECONDS,
        ),
      }),
    );
  }

  async isRequested(userId: string, messageId: string): Promise<boolean> {
    const output = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userId, sk: stopSortKey(messageId) },
        ConsistentRead: true,
        ProjectionExpression: 'pk',
      }),
    );
    return output.Item !== undefined;
  }
}
