/**
 * Turns in the chat table (see chatTable in lib/resources.ts).
 *
 * Turn item:  pk = <userId>, sk = TURN#<turn id>, conv = <userId>#<conversationId> (byConversation pk),
 *             id, conversation_id, user_message, assistant_response, status, created_at, updated_at,
 *             finish_reason?, usage? {prompt_tokens, completion_tokens}, error_code?, server?
 * Store claim: pk = <userId>, sk = STORE#<client id>, turn_id, content_hash, conversation_id, created_at
 *             (no `conv`, so it never shows in the index; no TURN# prefix, so never in history).
 *
 * Every write is a single-item conditional write (dynalite has no transactions). Throttling and
 * 5xx errors propagate as the SDK's errors: the caller decides whether to buffer the write in SQS.
 */
import { createHash } from 'node:crypto';
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
import { ulid } from '../../domain/ids';
import type { HistoryPage, HistoryQuery, NewTurn, StoredTurnInput, TurnRepository } from '../../domain/ports';
import type { Turn, TurnOutcome, TurnStatus } from '../../domain/turn';
import { INFLIGHT_SHARDS } from '../../lib/resources';
import { type CursorKey, decodeCursor, encodeCursor, TURN_PREFIX } from './cursor';
import { isConditionalCheckFailed } from './errors';

export const CONVERSATION_INDEX = 'byConversation';
export const INFLIGHT_INDEX = 'byInflight';

/** The byInflight shard of a turn: spread by a hash of its id so no shard takes most writes. */
export function inflightKey(id: string): string {
  const shard = createHash('sha256').update(id).digest().readUInt16BE(0) % INFLIGHT_SHARDS;
  return `INFLIGHT#${shard}`;
}
const STORE_PREFIX = 'STORE#';
/** Upper bound on a history page; the use case normally asks for far fewer. */
export const MAX_HISTORY_LIMIT = 1000;

const TURN_STATUSES: ReadonlySet<string> = new Set<TurnStatus>([
  'in_progress',
  'completed',
  'failed',
  'stopped',
  'interrupted',
]);

interface TurnItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly conversation_id: string;
  readonly conv: string;
  readonly user_message: string;
  readonly assistant_response: string;
  readonly status: TurnStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly finish_reason?: string;
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
  readonly error_code?: string;
  readonly server?: string;
  /** Only while in_progress: the sparse byInflight index key. */
  readonly inflight?: string;
}

interface StoreClaimItem {
  readonly pk: string;
  readonly sk: string;
  readonly turn_id: string;
  readonly content_hash: string;
  readonly conversation_id: string;
  readonly created_at: string;
}

export const turnSortKey = (id: string) => `${TURN_PREFIX}${id}`;
export const storeClaimSortKey = (clientId: string) => `${STORE_PREFIX}${clientId}`;

/** The byConversation partition key. A user id never contains '#' (Cognito subs are UUIDs). */
export function conversationKey(userId: string, conversationId: string): string {
  if (userId.includes('#')) throw new Error('User ids must not contain "#"');
  return `${userId}#${conversationId}`;
}

/** sha256 over an unambiguous encoding of the content that makes two stores "the same". */
export function storeContentHash(
  input: Pick<StoredTurnInput, 'conversationId' | 'userMessage' | 'assistantResponse'>,
) {
  return createHash('sha256')
    .update(JSON.stringify([input.conversationId, input.userMessage, input.assistantResponse]))
    .digest('hex');
}

export class DynamoDbTurnRepository implements TurnRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async startTurn(turn: NewTurn): Promise<void> {
    const item: TurnItem = {
      pk: turn.userId,
      sk: turnSortKey(turn.id),
      id: turn.id,
      conversation_id: turn.conversationId,
      conv: conversationKey(turn.userId, turn.conversationId),
      user_message: turn.userMessage,
      assistant_response: '',
      status: 'in_progress',
      created_at: turn.createdAt,
      updated_at: turn.createdAt,
      inflight: inflightKey(turn.id),
      ...(turn.server === undefined ? {} : { server: turn.server }),
    };
    if (!(await this.putIfAbsent(item))) {
      throw new DomainError('conflict', 'A turn with this id already exists.');
    }
  }

  async finishTurn(
    turn: NewTurn,
    outcome: TurnOutcome,
    options: { replaceInterrupted?: boolean } = {},
  ): Promise<boolean> {
    const names: Record<string, string> = { '#pk': 'pk', '#status': 'status', '#inflight': 'inflight' };
    const values: Record<string, unknown> = { ':in_progress': 'in_progress' };
    if (options.replaceInterrupted) values[':interrupted'] = 'interrupted';
    const sets: string[] = [];
    // Start attributes: kept when the in_progress item exists, written when its write was lost.
    const setIfAbsent = (attribute: string, value: unknown) => {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = if_not_exists(#${attribute}, :${attribute})`);
    };
    const set = (attribute: string, value: unknown) => {
      if (value === undefined) return;
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    };
    setIfAbsent('id', turn.id);
    setIfAbsent('conversation_id', turn.conversationId);
    setIfAbsent('conv', conversationKey(turn.userId, turn.conversationId));
    setIfAbsent('user_message', turn.userMessage);
    setIfAbsent('created_at', turn.createdAt);
    if (turn.server !== undefined) setIfAbsent('server', turn.server);
    set('status', outcome.status);
    set('assistant_response', outcome.assistantResponse);
    set('updated_at', outcome.updatedAt);
    set('finish_reason', outcome.finishReason);
    set(
      'usage',
      outcome.usage && {
        prompt_tokens: outcome.usage.promptTokens,
        completion_tokens: outcome.usage.completionTokens,
      },
    );
    set('error_code', outcome.errorCode);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: turn.userId, sk: turnSortKey(turn.id) },
          // Leaving in_progress also leaves the sparse in-flight index.
          UpdateExpression: `SET ${sets.join(', ')} REMOVE #inflight`,
          ConditionExpression: options.replaceInterrupted
            ? 'attribute_not_exists(#pk) OR #status IN (:in_progress, :interrupted)'
            : 'attribute_not_exists(#pk) OR #status = :in_progress',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
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
    const claim: StoreClaimItem = {
      pk: input.userId,
      sk: storeClaimSortKey(input.clientId),
      turn_id: input.turnId,
      content_hash: storeContentHash(input),
      conversation_id: input.conversationId,
      created_at: input.createdAt,
    };
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

    const page = items.slice(0, limit).map((item) => toTurn(item));
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

  async listStaleTurns(createdBefore: number, limit: number): Promise<NewTurn[]> {
    // Sort keys are TURN#<ulid>; a ulid of the cut-off time with the lowest random part bounds them.
    const bound = turnSortKey(`${ulid(Math.max(0, Math.floor(createdBefore))).slice(0, 10)}0000000000000000`);
    const found: NewTurn[] = [];
    for (let shard = 0; shard < INFLIGHT_SHARDS && found.length < limit; shard++) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const output = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INFLIGHT_INDEX,
            KeyConditionExpression: 'inflight = :shard AND sk < :bound',
            ExpressionAttributeValues: { ':shard': `INFLIGHT#${shard}`, ':bound': bound },
            Limit: limit - found.length,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of output.Items ?? []) {
          const turn = toTurn(item);
          // The index is eventually consistent: skip turns that ended since.
          if (turn.status !== 'in_progress') continue;
          found.push({
            userId: turn.userId,
            id: turn.id,
            conversationId: turn.conversationId,
            userMessage: turn.userMessage,
            createdAt: turn.createdAt,
            ...(turn.server ? { server: turn.server } : {}),
          });
        }
        startKey = output.LastEvaluatedKey;
      } while (startKey && found.length < limit);
    }
    return found;
  }

  private async getTurnItem(userId: string, sk: string): Promise<Turn | undefined> {
    const output = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: userId, sk }, ConsistentRead: true }),
    );
    return output.Item ? toTurn(output.Item) : undefined;
  }

  private async getStoreClaim(userId: string, clientId: string): Promise<StoreClaimItem | undefined> {
    const output = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: userId, sk: storeClaimSortKey(clientId) },
        ConsistentRead: true,
      }),
    );
    const item = output.Item;
    if (!item) return undefined;
    const { pk, sk, turn_id, content_hash, conversation_id, created_at } = item;
    if (
      typeof pk !== 'string' ||
      typeof sk !== 'string' ||
      typeof turn_id !== 'string' ||
      typeof content_hash !== 'string' ||
      typeof conversation_id !== 'string' ||
      typeof created_at !== 'string'
    ) {
      throw new Error(`Malformed store claim ${String(sk)}`);
    }
    return { pk, sk, turn_id, content_hash, conversation_id, created_at };
  }

  /** Puts the completed turn of a store unless it exists; an existing item must be this turn. */
  private async putStoredTurnIfAbsent(input: StoredTurnInput, turnId: string, createdAt: string) {
    const item: TurnItem = {
      pk: input.userId,
      sk: turnSortKey(turnId),
      id: input.clientId,
      conversation_id: input.conversationId,
      conv: conversationKey(input.userId, input.conversationId),
      user_message: input.userMessage,
      assistant_response: input.assistantResponse,
      status: 'completed',
      created_at: createdAt,
      updated_at: createdAt,
    };
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

/** An item's `TURN#<id>` sort key (its id differs from `id` for stored turns). */
function turnSortKeyOf(item: Record<string, unknown> | undefined): string {
  const sk = item?.sk;
  if (typeof sk !== 'string' || !sk.startsWith(TURN_PREFIX))
    throw new Error('Turn item without a TURN# sort key');
  return sk;
}

function requiredString(item: Record<string, unknown>, attribute: string): string {
  const value = item[attribute];
  if (typeof value !== 'string') {
    throw new Error(`Malformed turn item ${String(item.sk)}: ${attribute} is not a string`);
  }
  return value;
}

function optionalString(item: Record<string, unknown>, attribute: string): string | undefined {
  const value = item[attribute];
  return typeof value === 'string' ? value : undefined;
}

function toTurn(item: Record<string, unknown>): Turn {
  const status = requiredString(item, 'status');
  if (!TURN_STATUSES.has(status)) throw new Error(`Malformed turn item ${String(item.sk)}: status ${status}`);
  const usage = item.usage;
  const finishReason = optionalString(item, 'finish_reason');
  const errorCode = optionalString(item, 'error_code');
  const server = optionalString(item, 'server');
  return {
    userId: requiredString(item, 'pk'),
    id: requiredString(item, 'id'),
    conversationId: requiredString(item, 'conversation_id'),
    userMessage: requiredString(item, 'user_message'),
    assistantResponse: optionalString(item, 'assistant_response') ?? '',
    status: status as TurnStatus,
    createdAt: requiredString(item, 'created_at'),
    updatedAt: requiredString(item, 'updated_at'),
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(isUsage(usage)
      ? { usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } }
      : {}),
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(server === undefined ? {} : { server }),
  };
}

function isUsage(value: unknown): value is { prompt_tokens: number; completion_tokens: number } {
  if (typeof value !== 'object' || value === null) return false;
  const { prompt_tokens, completion_tokens } = value as Record<string, unknown>;
  return typeof prompt_tokens === 'number' && typeof completion_tokens === 'number';
}
