/**
 * Deletes turns for a conversation delete or an erase of everything: keys only, a page at a time, in
 * BatchWriteItem batches (batches.ts), never a Scan. Only turns created before the scope's `before`
 * go: a conversation id reused after a delete, or a prompt sent after an erase, keeps its new turns.
 *
 * One conversation's turns are found on the byConversation index (its partition is `<user>#<id>`); the
 * whole history is a Query of the user's partition for TURN# keys, then of STORE# claims (a /chat/store
 * claim would otherwise bring its erased turn back on a retry).
 */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { EraseScope, TurnEraser } from '../../domain/ports';
import { deleteKeys, type ItemKey } from './batches';
import {
  CONVERSATION_INDEX,
  conversationKey,
  storeClaimSortKey,
  TURN_PREFIX,
  turnSortKeyBefore,
} from './chat-items';

/** Keys read per Query: ten batches, so the deadline is checked every ~tenth of a second. */
const KEYS_PER_PAGE = 250;

export class DynamoDbTurnEraser implements TurnEraser {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async erase(scope: EraseScope, deadline: number): Promise<{ deleted: number; done: boolean }> {
    const bound = turnSortKeyBefore(Date.parse(scope.before));
    const queries: QueryCommandInput[] =
      scope.conversationId === undefined
        ? [
            {
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :bound',
              ExpressionAttributeValues: { ':pk': scope.userId, ':first': TURN_PREFIX, ':bound': bound },
            },
            {
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
              FilterExpression: 'created_at < :before',
              ExpressionAttributeValues: {
                ':pk': scope.userId,
                ':prefix': storeClaimSortKey(''),
                ':before': scope.before,
              },
            },
          ]
        : [
            {
              TableName: this.tableName,
              IndexName: CONVERSATION_INDEX,
              KeyConditionExpression: 'conv = :conv AND sk < :bound',
              ExpressionAttributeValues: {
                ':conv': conversationKey(scope.userId, scope.conversationId),
                ':bound': bound,
              },
            },
          ];
    let deleted = 0;
    for (const query of queries) {
      let startKey: Record<string, unknown> | undefined;
      do {
        if (this.now() >= deadline) return { deleted, done: false };
        const output = await this.doc.send(
          new QueryCommand({
            ...query,
            ProjectionExpression: 'pk, sk',
            Limit: KEYS_PER_PAGE,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        const keys: ItemKey[] = (output.Items ?? []).map((item) => {
          // Defence in depth: the key conditions already restrict the query to this user.
          if (item.pk !== scope.userId) throw new Error("Erase query returned another user's item");
          return { pk: scope.userId, sk: String(item.sk) };
        });
        await deleteKeys(this.doc, this.tableName, keys);
        deleted += keys.length;
        startKey = output.LastEvaluatedKey;
      } while (startKey);
    }
    return { deleted, done: true };
  }
}
