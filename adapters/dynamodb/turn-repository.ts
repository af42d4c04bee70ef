/**
 * Turns in the chat table: started, finished, stored from /chat/store, read back one by one or as
 * history pages, and marked interrupted by the sweeper. The items and keys are chat-items.ts's.
 *
 * Every write is a single-item conditional write (dynalite has no transactions). Throttling and
 * 5xx errors propagate as the SDK's errors: the caller decides whether to buffer the write in SQS.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../../domain/errors';
import type { HistoryPage, HistoryQuery, NewTurn, StoredTurnInput, TurnRepository } from '../../domain/ports';
import type { Turn, TurnOutcome } from '../../domain/turn';
import { getItems } from './batches';
import {
  CONVERSATION_INDEX,
  conversationKey,
  finishTurnUpdate,
  type StoreClaimItem,
  startedTurnItem,
  storeClaimFromItem,
  storeClaimItem,
  storeClaimSortKey,
  storedTurnItem,
  TURN_PREFIX,
  type TurnItem,
  turnFromItem,
  turnSortKey,
  turnSortKeyOf,
} from './chat-items';
import { type CursorKey, decodeCursor, encodeCursor } from './cursor';
import { isConditionalCheckFailed } from './errors';

/** Upper bound on a history page; the use case normally asks for far fewer. */
const MAX_HISTORY_LIMIT = 1000;

export class DynamoDbTurnRepository implements TurnRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async startTurn(turn: NewTurn): Promise<void> {
    if (!(await this.putIfAbsent(startedTurnItem(turn)))) {
      throw new DomainError('conflict', 'A turn with this id already exists.');
    }
  }

  async finishTurn(
    turn: NewTurn,
    outcome: TurnOutcome,
    options: { replaceInterrupted?: boolean } = {},
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          ...finishTurnUpdate(turn, outcome, options.replaceInterrupted === true),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async discardTurn(userId: string, id: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: turnSortKey(id) },
          ConditionExpression: '#status = :in_progress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':in_progress': 'in_progress' },
        }),
      );
    } catch (error) {
      // Absent or already ended: nothing to discard.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async storeTurn(input: StoredTurnInput): Promise<'created' | 'duplicate'> {
    const claim = storeClaimItem(input);
    if (!(await this.putIfAbsent(claim))) {
      const existing = await this.getStoreClaim(input.userId, input.clientId);
      if (!existing) throw new Error(`Store claim ${claim.sk} vanished after a failed conditional put`);
      if (existing.content_hash !== claim.content_hash) {
        throw new DomainError('conflict', 'A turn with this id was stored with different content.');
      }
      // Same content: repair a turn item lost between the two writes of an earlier attempt,
      // using the claim's turn id and time so the repaired item is the one that attempt meant.
      await this.putStoredTurnIfAbsent(input, existing.turn_id, existing.created_at);
      return 'duplicate';
    }
    await this.putStoredTurnIfAbsent(input, claim.turn_id, claim.created_at);
    return 'created';
  }

  async getTurn(userId: string, id: string): Promise<Turn | undefined> {
    const direct = await this.getTurnItem(userId, turnSortKey(id));
    if (direct) return direct;
    // Turns from /chat/store carry the client's id, while their sort key uses a time-ordered turn id.
    const claim = await this.getStoreClaim(userId, id);
    if (!claim) return undefined;
    const stored = await this.getTurnItem(userId, turnSortKey(claim.turn_id));
    return stored?.id === id ? stored : undefined;
  }

  async listTurns(userId: string, query: HistoryQuery): Promise<HistoryPage> {
    const { limit, conversationId } = query;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw new DomainError('invalid_request', `limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}.`);
    }
    const conv = conversationId === undefined ? undefined : conversationKey(userId, conversationId);
    const after: CursorKey | undefined =
      query.cursor === undefined
        ? undefined
        : decodeCursor(query.cursor, conv === undefined ? { pk: userId } : { pk: userId, conv });

    const base: QueryCommandInput =
      conv === undefined
        ? {
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': userId, ':prefix': TURN_PREFIX },
            ScanIndexForward: false,
          }
        : {
            TableName: this.tableName,
            IndexName: CONVERSATION_INDEX,
            KeyConditionExpression: 'conv = :conv',
            ExpressionAttributeValues: { ':conv': conv },
            ScanIndexForward: false,
          };

    // One more than asked tells whether another page exists. A Query may stop early (1 MB per
    // response) with a LastEvaluatedKey, so keep going until we have limit + 1 or the end.
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined = after && { ...after };
    do {
      const output = await this.doc.send(
        new QueryCommand({
          ...base,
          Limit: limit + 1 - items.length,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...(output.Items ?? []));
      startKey = output.LastEvaluatedKey;
    } while (startKey && items.length <= limit);

    // The byConversation index holds keys only: its page is read from the table.
    const pageItems =
      conv === undefined
        ? items.slice(0, limit)
        : await getItems(
            this.doc,
            this.tableName,
            items.slice(0, limit).map((key) => ({ pk: userId, sk: turnSortKeyOf(key) })),
          );
    const page = pageItems.map((item) => turnFromItem(item));
    for (const turn of page) {
      // Defence in depth: the key conditions already restrict the query to this user.
      if (turn.userId !== userId) throw new Error("History query returned another user's turn");
    }
    if (items.length <= limit) return { turns: page };
    return {
      turns: page,
      nextCursor: encodeCursor({
        pk: userId,
        sk: turnSortKeyOf(items[limit - 1]),
        ...(conv === undefined ? {} : { conv }),
      }),
    };
  }

  async readTurns(userId: string, ids: readonly string[]): Promise<Turn[]> {
    const items = await getItems(
      this.doc,
      this.tableName,
      ids.map((id) => ({ pk: userId, sk: turnSortKey(id) })),
    );
    return items.map((item) => turnFromItem(item)).filter((turn) => turn.userId === userId);
  }

  async interruptTurn(userId: string, id: string, at: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: turnSortKey(id) },
          UpdateExpression:
            'SET #status = :interrupted, error_code = :interrupted, updated_at = :at REMOVE stop_inbox',
          // Only a turn still in_progress: never one that ended, nor a key no turn was written under (no
          // attribute_not_exists: a slot whose turn was never written must not create one).
          ConditionExpression: '#status = :in_progress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':interrupted': 'interrupted',
            ':in_progress': 'in_progress',
            ':at': at,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async getTurnItem(userId: string, sk: string): Promise<Turn | undefined> {
    const output = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: userId, sk }, ConsistentRead: true }),
    );
    return output.Item ? turnFromItem(output.Item) : undefined;
  }

  private async getStoreClaim(userId: string, clientId: string): Promise<StoreClaimItem | undefined> {
    const output = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userId, sk: storeClaimSortKey(clientId) },
        ConsistentRead: true,
      }),
    );
    return output.Item ? storeClaimFromItem(output.Item) : undefined;
  }

  /** Puts the completed turn of a store unless it exists; an existing item must be this turn. */
  private async putStoredTurnIfAbsent(input: StoredTurnInput, turnId: string, createdAt: string) {
    const item = storedTurnItem(input, turnId, createdAt);
    if (!(await this.putIfAbsent(item))) {
      const existing = await this.getTurnItem(input.userId, item.sk);
      if (existing?.id !== input.clientId) {
        throw new Error(`Turn ${item.sk} exists but belongs to another id`);
      }
    }
  }

  /** Puts an item unless its key exists; false when it did. Other errors propagate. */
  private async putIfAbsent(item: TurnItem | StoreClaimItem): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
