/**
 * The items of the chat table (chatTable in lib/resources.ts): their keys, how domain values become
 * attributes and back. The repositories (turn-repository.ts, idempotency-claims.ts, stop-flags.ts)
 * choose the commands and the conditions on them; the items' shapes live here.
 *
 * All items of a user share the partition pk = <userId>:
 * Turn:        sk = TURN#<turn id>, conv = <userId>#<conversationId> (byConversation pk; keys only),
 *              id, conversation_id, user_message, assistant_response (brotli bytes when long: stored-text.ts),
 *              status, created_at, updated_at,
 *              finish_reason?, usage? {prompt_tokens, completion_tokens}, message_tokens?, context_from?,
 *              error_code?, server?, regenerate_of? | edit_of? (the turn it revises: TurnRevision),
 *              stop_inbox? (only while in_progress: where POST /chat/stop delivers)
 * Store claim: sk = STORE#<client id>, turn_id, content_hash, conversation_id, created_at
 *              (no `conv`, so it never shows in the index; no TURN# prefix, so never in history).
 * Idempotency claim: sk = IDEM#<key>, message_id, conversation_id, request_hash, claimed_at (epoch ms),
 *              expires_at (epoch s, the table's TTL attribute).
 * Stop flag:   sk = STOP#<message id>, requested_at (ISO-8601), expires_at (epoch s).
 * Quota counters: sk = QUOTA#… and STORED#…, in quota-items.ts.
 * Conversation: sk = CONV#<conversation id> (title, created_at, updated_at, turns), and the erase mark
 *              sk = ERASE, in conversation-items.ts. Conversations are listed by one Query of the user's
 *              partition (begins_with CONV#, DynamoDB's 1 MB pages) sorted by updated_at in memory, the
 *              cursor holding the last one's updated_at and id: linear in the user's own conversation
 *              count and single-partition. Not an index: one sorted by updated_at would cost every turn
 *              two more index writes (its sort key changes each turn), and the turn is the budgeted unit.
 */
import { createHash } from 'node:crypto';
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import type { TurnStatus } from '../../contract/turn';
import type { TurnRevision } from '../../domain/chat-request';
import { ulid } from '../../domain/ids';
import type { IdempotencyClaim, NewTurn, StoredTurnInput } from '../../domain/ports';
import type { Turn, TurnOutcome } from '../../domain/turn';
import { decodeStoredText, encodeStoredText } from './stored-text';

export const TURN_PREFIX = 'TURN#';
const STORE_PREFIX = 'STORE#';

export const CONVERSATION_INDEX = 'byConversation';

export const turnSortKey = (id: string) => `${TURN_PREFIX}${id}`;
/**
 * The lowest TURN# key of the instant `epochMs` (a ulid of it with the lowest random part): every turn
 * created earlier sorts below it, since turn ids are ulids.
 */
export const turnSortKeyBefore = (epochMs: number) =>
  turnSortKey(`${ulid(Math.max(0, Math.floor(epochMs))).slice(0, 10)}0000000000000000`);
export const storeClaimSortKey = (clientId: string) => `${STORE_PREFIX}${clientId}`;
export const idempotencySortKey = (key: string) => `IDEM#${key}`;
export const stopSortKey = (messageId: string) => `STOP#${messageId}`;

/** The byConversation partition key. A user id never contains '#' (Cognito subs are UUIDs). */
export function conversationKey(userId: string, conversationId: string): string {
  if (userId.includes('#')) throw new Error('User ids must not contain "#"');
  return `${userId}#${conversationId}`;
}

const TURN_STATUSES: ReadonlySet<string> = new Set<TurnStatus>([
  'in_progress',
  'completed',
  'failed',
  'stopped',
  'interrupted',
]);

export interface TurnItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly conversation_id: string;
  readonly conv: string;
  /** Plain or brotli-compressed (stored-text.ts). */
  readonly user_message: string | Uint8Array;
  readonly assistant_response: string | Uint8Array;
  readonly status: TurnStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly finish_reason?: string;
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
  readonly message_tokens?: number;
  readonly context_from?: string;
  readonly error_code?: string;
  readonly server?: string;
  readonly regenerate_of?: string;
  readonly edit_of?: string;
  readonly stop_inbox?: string;
}

export interface StoreClaimItem {
  readonly pk: string;
  readonly sk: string;
  readonly turn_id: string;
  readonly content_hash: string;
  readonly conversation_id: string;
  readonly created_at: string;
}

/** A started turn: in_progress (its stream slot, quota-items.ts, names it to the sweeper). */
export function startedTurnItem(turn: NewTurn): TurnItem {
  return {
    pk: turn.userId,
    sk: turnSortKey(turn.id),
    id: turn.id,
    conversation_id: turn.conversationId,
    conv: conversationKey(turn.userId, turn.conversationId),
    user_message: encodeStoredText(turn.userMessage),
    assistant_response: '',
    status: 'in_progress',
    created_at: turn.createdAt,
    updated_at: turn.createdAt,
    ...(turn.server === undefined ? {} : { server: turn.server }),
    ...(turn.stopInbox === undefined ? {} : { stop_inbox: turn.stopInbox }),
    ...revisionAttributes(turn.revises),
  };
}

/** A revision's attribute: `regenerate_of` or `edit_of`, holding the revised turn's id. */
function revisionAttributes(revises: TurnRevision | undefined): Pick<TurnItem, 'regenerate_of' | 'edit_of'> {
  if (revises === undefined) return {};
  return revises.kind === 'regeneration' ? { regenerate_of: revises.of } : { edit_of: revises.of };
}

function revisionFromItem(item: Record<string, unknown>): TurnRevision | undefined {
  const regenerateOf = optionalString(item, 'regenerate_of');
  if (regenerateOf !== undefined) return { kind: 'regeneration', of: regenerateOf };
  const editOf = optionalString(item, 'edit_of');
  return editOf === undefined ? undefined : { kind: 'edit', of: editOf };
}

/**
 * A turn from /chat/store: completed at once. Its sort key uses the claim's time-ordered turn id, while
 * `id` is the client's, which is what the client asks for later.
 */
export function storedTurnItem(input: StoredTurnInput, turnId: string, createdAt: string): TurnItem {
  return {
    pk: input.userId,
    sk: turnSortKey(turnId),
    id: input.clientId,
    conversation_id: input.conversationId,
    conv: conversationKey(input.userId, input.conversationId),
    user_message: encodeStoredText(input.userMessage),
    assistant_response: encodeStoredText(input.assistantResponse),
    status: 'completed',
    created_at: createdAt,
    updated_at: createdAt,
  };
}

/**
 * The update that ends a turn. The start attributes are written only where absent, so it also creates
 * the whole turn when its in_progress write was lost. Conditional on the turn being absent or still in_progress (or `interrupted`, which
 * the sweeper only inferred, when replaceInterrupted).
 */
export function finishTurnUpdate(
  turn: NewTurn,
  outcome: TurnOutcome,
  replaceInterrupted: boolean,
): Pick<
  UpdateCommandInput,
  | 'Key'
  | 'UpdateExpression'
  | 'ConditionExpression'
  | 'ExpressionAttributeNames'
  | 'ExpressionAttributeValues'
> {
  const names: Record<string, string> = {
    '#pk': 'pk',
    '#status': 'status',
    '#stop_inbox': 'stop_inbox',
  };
  const values: Record<string, unknown> = { ':in_progress': 'in_progress' };
  if (replaceInterrupted) values[':interrupted'] = 'interrupted';
  const sets: string[] = [];
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
  setIfAbsent('user_message', encodeStoredText(turn.userMessage));
  setIfAbsent('created_at', turn.createdAt);
  if (turn.server !== undefined) setIfAbsent('server', turn.server);
  for (const [attribute, value] of Object.entries(revisionAttributes(turn.revises))) {
    setIfAbsent(attribute, value);
  }
  set('status', outcome.status);
  set('assistant_response', encodeStoredText(outcome.assistantResponse));
  set('updated_at', outcome.updatedAt);
  set('finish_reason', outcome.finishReason);
  set(
    'usage',
    outcome.usage && {
      prompt_tokens: outcome.usage.promptTokens,
      completion_tokens: outcome.usage.completionTokens,
    },
  );
  set('message_tokens', outcome.messageTokens);
  set('context_from', outcome.contextFrom);
  set('error_code', outcome.errorCode);
  return {
    Key: { pk: turn.userId, sk: turnSortKey(turn.id) },
    UpdateExpression: `SET ${sets.join(', ')} REMOVE #stop_inbox`,
    ConditionExpression: replaceInterrupted
      ? 'attribute_not_exists(#pk) OR #status IN (:in_progress, :interrupted)'
      : 'attribute_not_exists(#pk) OR #status = :in_progress',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The turn a turn item holds; throws on a malformed item. */
export function turnFromItem(item: Record<string, unknown>): Turn {
  const status = requiredString(item, 'status');
  if (!TURN_STATUSES.has(status)) throw new Error(`Malformed turn item ${String(item.sk)}: status ${status}`);
  const usage = item.usage;
  const finishReason = optionalString(item, 'finish_reason');
  const errorCode = optionalString(item, 'error_code');
  const server = optionalString(item, 'server');
  const stopInbox = optionalString(item, 'stop_inbox');
  const messageTokens = item.message_tokens;
  const contextFrom = optionalString(item, 'context_from');
  const revises = revisionFromItem(item);
  return {
    userId: requiredString(item, 'pk'),
    id: requiredString(item, 'id'),
    conversationId: requiredString(item, 'conversation_id'),
    userMessage: requiredText(item, 'user_message'),
    assistantResponse: decodeStoredText(item.assistant_response) ?? '',
    status: status as TurnStatus,
    createdAt: requiredString(item, 'created_at'),
    updatedAt: requiredString(item, 'updated_at'),
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(isUsage(usage)
      ? { usage: { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } }
      : {}),
    ...(typeof messageTokens === 'number' ? { messageTokens } : {}),
    ...(contextFrom === undefined ? {} : { contextFrom }),
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(server === undefined ? {} : { server }),
    ...(stopInbox === undefined ? {} : { stopInbox }),
    ...(revises === undefined ? {} : { revises }),
  };
}

/** An item's `TURN#<id>` sort key (its id differs from `id` for stored turns). */
export function turnSortKeyOf(item: Record<string, unknown> | undefined): string {
  const sk = item?.sk;
  if (typeof sk !== 'string' || !sk.startsWith(TURN_PREFIX))
    throw new Error('Turn item without a TURN# sort key');
  return sk;
}

/** sha256 over an unambiguous encoding of the content that makes two stores "the same". */
function storeContentHash(
  input: Pick<StoredTurnInput, 'conversationId' | 'userMessage' | 'assistantResponse'>,
) {
  return createHash('sha256')
    .update(JSON.stringify([input.conversationId, input.userMessage, input.assistantResponse]))
    .digest('hex');
}

/** The claim a store makes on its client id, with a hash of the content it stores. */
export function storeClaimItem(input: StoredTurnInput): StoreClaimItem {
  return {
    pk: input.userId,
    sk: storeClaimSortKey(input.clientId),
    turn_id: input.turnId,
    content_hash: storeContentHash(input),
    conversation_id: input.conversationId,
    created_at: input.createdAt,
  };
}

export function storeClaimFromItem(item: Record<string, unknown>): StoreClaimItem {
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

export function idempotencyClaimItem(
  userId: string,
  key: string,
  claim: IdempotencyClaim,
  expiresAtSeconds: number,
) {
  return {
    pk: userId,
    sk: idempotencySortKey(key),
    message_id: claim.messageId,
    conversation_id: claim.conversationId,
    request_hash: claim.requestHash,
    claimed_at: claim.claimedAt,
    expires_at: expiresAtSeconds,
  };
}

/**
 * The live claim an idempotency item holds, or undefined once it has expired: DynamoDB's TTL deletes
 * expired items eventually (dynalite never does), so until then they still come back. Throws on a
 * malformed item.
 */
export function liveIdempotencyClaimFromItem(
  item: Record<string, unknown>,
  nowSeconds: number,
): IdempotencyClaim | undefined {
  const { message_id, conversation_id, request_hash, claimed_at, expires_at } = item;
  if (typeof expires_at === 'number' && expires_at < nowSeconds) return undefined;
  if (
    typeof message_id !== 'string' ||
    typeof conversation_id !== 'string' ||
    typeof request_hash !== 'string' ||
    typeof claimed_at !== 'number'
  ) {
    throw new Error('Malformed idempotency claim');
  }
  return {
    messageId: message_id,
    conversationId: conversation_id,
    requestHash: request_hash,
    claimedAt: claimed_at,
  };
}

export function stopFlagItem(
  userId: string,
  messageId: string,
  requestedAt: number,
  expiresAtSeconds: number,
) {
  return {
    pk: userId,
    sk: stopSortKey(messageId),
    requested_at: new Date(requestedAt).toISOString(),
    expires_at: expiresAtSeconds,
  };
}

function requiredString(item: Record<string, unknown>, attribute: string): string {
  const value = item[attribute];
  if (typeof value !== 'string') {
    throw new Error(`Malformed turn item ${String(item.sk)}: ${attribute} is not a string`);
  }
  return value;
}

function requiredText(item: Record<string, unknown>, attribute: string): string {
  const value = decodeStoredText(item[attribute]);
  if (value === undefined) {
    throw new Error(`Malformed turn item ${String(item.sk)}: ${attribute} is not a text`);
  }
  return value;
}

function optionalString(item: Record<string, unknown>, attribute: string): string | undefined {
  const value = item[attribute];
  return typeof value === 'string' ? value : undefined;
}

function isUsage(value: unknown): value is { prompt_tokens: number; completion_tokens: number } {
  if (typeof value !== 'object' || value === null) return false;
  const { prompt_tokens, completion_tokens } = value as Record<string, unknown>;
  return typeof prompt_tokens === 'number' && typeof completion_tokens === 'number';
}
