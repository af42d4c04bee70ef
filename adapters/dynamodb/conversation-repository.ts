/**
 * Conversation items and the erase mark in the chat table (conversation-items.ts has their layout).
 *
 * Listing reads all of the caller's conversation items with one Query of their partition (paged by
 * DynamoDB's 1 MB responses) and sorts them by activity in memory: linear in the user's own conversation
 * count (~150 bytes each: 1,000 conversations are ~19 read units), and it keeps every turn at one small
 * write. An index sorted by activity would make each turn pay two more index writes.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  byActivityDescending,
  type Conversation,
  type ConversationPage,
  type Erasure,
  pageOfConversations,
} from '../../domain/conversation';
import { DomainError } from '../../domain/errors';
import type { ConversationActivity, ConversationRepository, ErasureMarks } from '../../domain/ports';
import { deleteKeys, type ItemKey } from './batches';
import { decodeConversationCursor, encodeConversationCursor } from './conversation-cursor';
import {
  CONVERSATION_PREFIX,
  conversationFromItem,
  conversationSortKey,
  ERASE_SORT_KEY,
  eraseMarkItem,
  erasureFromItem,
  RECENT_TURNS_KEPT,
  recentTurnIdsOf,
  recordTurnUpdate,
  trimRecentUpdate,
} from './conversation-items';
import { isConditionalCheckFailed } from './errors';

/** Upper bound on a page; the HTTP parser allows far fewer. */
const MAX_LIST_LIMIT = 1000;

export class DynamoDbConversationRepository implements ConversationRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordTurn(
    userId: string,
    conversationId: string,
    title: string,
    at: string,
    turnId: string,
  ): Promise<ConversationActivity> {
    const output = await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        ...recordTurnUpdate(userId, conversationId, title, at, turnId),
      }),
    );
    const before = output.Attributes;
    const createdAt = before?.created_at;
    const recent = recentTurnIdsOf(before);
    if (recent && recent.length + 1 > RECENT_TURNS_KEPT) {
      // Off the turn's path; if it is lost or loses a race, the next turn's start trims instead.
      void this.doc
        .send(
          new UpdateCommand({
            TableName: this.tableName,
            ...trimRecentUpdate(userId, conversationId, [...recent, turnId]),
          }),
        )
        .catch(() => undefined);
    }
    if (typeof createdAt !== 'string') return { existed: false };
    return recent
      ? { existed: true, createdAt, recentTurnIds: [...recent].sort().reverse() }
      : { existed: true, createdAt };
  }

  async list(userId: string, query: { limit: number; cursor?: string }): Promise<ConversationPage> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIST_LIMIT) {
      throw new DomainError('invalid_request', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}.`);
    }
    const position = query.cursor === undefined ? undefined : decodeConversationCursor(query.cursor);
    const all = (await this.queryConversationItems(userId)).map((item) => conversationFromItem(item));
    const page = pageOfConversations(all, query.limit, position);
    return {
      conversations: page.conversations,
      ...(page.last ? { nextCursor: encodeConversationCursor(page.last) } : {}),
    };
  }

  async listAll(userId: string): Promise<Conversation[]> {
    return (await this.queryConversationItems(userId))
      .map((item) => conversationFromItem(item))
      .sort(byActivityDescending);
  }

  async rename(userId: string, conversationId: string, title: string): Promise<Conversation | undefined> {
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: conversationSortKey(conversationId) },
          UpdateExpression: 'SET #title = :title',
          // Only an existing conversation of this caller: an update must not create one.
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { '#title': 'title', '#pk': 'pk' },
          ExpressionAttributeValues: { ':title': title },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return output.Attributes ? conversationFromItem(output.Attributes) : undefined;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  async remove(userId: string, conversationId: string): Promise<boolean> {
    const output = await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: { pk: userId, sk: conversationSortKey(conversationId) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return output.Attributes !== undefined;
  }

  async removeAll(userId: string): Promise<number> {
    const keys: ItemKey[] = (await this.queryConversationItems(userId, true)).map((item) => ({
      pk: userId,
      sk: String(item.sk),
    }));
    await deleteKeys(this.doc, this.tableName, keys);
    return keys.length;
  }

  /** Every conversation item of the user (strongly consistent: a delete must see the latest). */
  private async queryConversationItems(userId: string, keysOnly = false): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': userId, ':prefix': CONVERSATION_PREFIX },
          ...(keysOnly ? { ProjectionExpression: 'pk, sk' } : {}),
          ConsistentRead: keysOnly,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey);
    for (const item of items) {
      // Defence in depth: the key condition already restricts the query to this user.
      if (item.pk !== userId) throw new Error("Conversation query returned another user's item");
    }
    return items;
  }
}

/** The erase mark: one small item per user, read by history and export (never by POST /chat). */
export class DynamoDbErasureMarks implements ErasureMarks {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(userId: string): Promise<Erasure | undefined> {
    const output = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userId, sk: ERASE_SORT_KEY },
        // A session right after the erase must already see it.
        ConsistentRead: true,
      }),
    );
    return output.Item ? erasureFromItem(output.Item) : undefined;
  }

  async begin(userId: string, erasedBefore: string): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: eraseMarkItem(userId, erasedBefore) }),
    );
  }

  async complete(userId: string, erasedBefore: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: ERASE_SORT_KEY },
          UpdateExpression: 'SET #status = :complete',
          // A later erase replaced this mark: its own job completes it.
          ConditionExpression: '#erased_before = :before',
          ExpressionAttributeNames: { '#status': 'status', '#erased_before': 'erased_before' },
          ExpressionAttributeValues: { ':complete': 'complete', ':before': erasedBefore },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}
