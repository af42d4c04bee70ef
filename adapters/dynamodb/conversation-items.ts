/**
 * The conversation and erase items of the chat table (the layout beside chat-items.ts), in the user's
 * partition:
 *
 * Conversation: sk = CONV#<conversation id>, id, title, created_at, updated_at (ISO-8601), turns (N),
 *               recent (L of S: the sort-key ids of its newest turns, oldest first, at most RECENT_TURNS_KEPT).
 *               Under 1 KB: one write unit per turn. Listed by one Query of the partition
 *               (begins_with CONV#), not an index (chat-items.ts says why).
 * Erase mark:   sk = ERASE, erased_before (ISO-8601: when the erase was asked), status (erasing | complete).
 *
 * No `conv`, no TURN# prefix: never in history or a conversation's turns.
 */
import type { Conversation, Erasure } from '../../domain/conversation';

export const CONVERSATION_PREFIX = 'CONV#';
export const ERASE_SORT_KEY = 'ERASE';

export const conversationSortKey = (conversationId: string) => `${CONVERSATION_PREFIX}${conversationId}`;

/**
 * Turn ids a conversation item keeps: 20 for context (CONTEXT_TURNS_TO_READ's default) and room for 4
 * more, so a long conversation pays one trimming write every 4 turns, not every turn. 24 ids of 27 bytes
 * and a prompt-made title (60 characters) keep the item under 1 KB, one write unit; a title renamed to
 * the 200-character maximum can push a long conversation's item past it (2 WRU per turn there).
 */
export const RECENT_TURNS_KEPT = 24;
export const RECENT_TURNS_AFTER_TRIM = 20;

/** The update of a turn's start: created when absent (title, created_at), activity, count and recent ids always. */
export function recordTurnUpdate(
  userId: string,
  conversationId: string,
  title: string,
  at: string,
  turnId: string,
) {
  return {
    Key: { pk: userId, sk: conversationSortKey(conversationId) },
    UpdateExpression:
      'SET #id = :id, #updated_at = :at, #title = if_not_exists(#title, :title), ' +
      '#created_at = if_not_exists(#created_at, :at), #recent = list_append(if_not_exists(#recent, :none), :turn) ' +
      'ADD #turns :one',
    ExpressionAttributeNames: {
      '#id': 'id',
      '#updated_at': 'updated_at',
      '#title': 'title',
      '#created_at': 'created_at',
      '#turns': 'turns',
      '#recent': 'recent',
    },
    ExpressionAttributeValues: {
      ':id': conversationId,
      ':at': at,
      ':title': title,
      ':one': 1,
      ':none': [],
      ':turn': [turnId],
    },
    // The item as it was: none means a new conversation (or one deleted since), whose old turns are not context.
    ReturnValues: 'ALL_OLD' as const,
  };
}

/** The conversation a conversation item holds; throws on a malformed item. */
export function conversationFromItem(item: Record<string, unknown>): Conversation {
  const { id, title, created_at, updated_at, turns } = item;
  if (
    typeof id !== 'string' ||
    typeof title !== 'string' ||
    typeof created_at !== 'string' ||
    typeof updated_at !== 'string' ||
    typeof turns !== 'number'
  ) {
    throw new Error(`Malformed conversation item ${String(item.sk)}`);
  }
  return { id, title, createdAt: created_at, updatedAt: updated_at, turns };
}

export function eraseMarkItem(userId: string, erasedBefore: string) {
  return { pk: userId, sk: ERASE_SORT_KEY, erased_before: erasedBefore, status: 'erasing' };
}

export function erasureFromItem(item: Record<string, unknown>): Erasure {
  const { erased_before, status } = item;
  if (typeof erased_before !== 'string' || (status !== 'erasing' && status !== 'complete')) {
    throw new Error('Malformed erase mark');
  }
  return { erasedBefore: erased_before, status };
}

/** The recent ids an item held, or undefined for an item from before it kept them. */
export function recentTurnIdsOf(item: Record<string, unknown> | undefined): string[] | undefined {
  const recent = item?.recent;
  if (!Array.isArray(recent)) return undefined;
  return recent.filter((id): id is string => typeof id === 'string');
}

/**
 * The trim of a list grown past RECENT_TURNS_KEPT, to its newest RECENT_TURNS_AFTER_TRIM: only if the list
 * is still as long as this turn's own update left it (a concurrent turn's update makes the next turn trim).
 */
export function trimRecentUpdate(userId: string, conversationId: string, afterAppend: readonly string[]) {
  const kept = [...afterAppend].sort().slice(-RECENT_TURNS_AFTER_TRIM);
  return {
    Key: { pk: userId, sk: conversationSortKey(conversationId) },
    UpdateExpression: 'SET #recent = :kept',
    ConditionExpression: 'size(#recent) = :length',
    ExpressionAttributeNames: { '#recent': 'recent' },
    ExpressionAttributeValues: { ':kept': kept, ':length': afterAppend.length },
  };
}
