/**
 * The conversation and erase items of the chat table (the layout beside chat-items.ts), in the user's
 * partition:
 *
 * Conversation: sk = CONV#<conversation id>, id, title, created_at, updated_at (ISO-8601), turns (N).
 *               About 150 bytes: one write unit per turn. Listed by one Query of the partition
 *               (begins_with CONV#), not an index (chat-items.ts says why).
 * Erase mark:   sk = ERASE, erased_before (ISO-8601: when the erase was asked), status (erasing | complete).
 *
 * No `conv`, no `inflight`, no TURN# prefix: never in history, a conversation's turns or the sweeper's index.
 */
import type { Conversation, Erasure } from '../../domain/conversation';

export const CONVERSATION_PREFIX = 'CONV#';
export const ERASE_SORT_KEY = 'ERASE';

export const conversationSortKey = (conversationId: string) => `${CONVERSATION_PREFIX}${conversationId}`;

/** The update of a turn's start: created when absent (title, created_at), activity and count always. */
export function recordTurnUpdate(userId: string, conversationId: string, title: string, at: string) {
  return {
    Key: { pk: userId, sk: conversationSortKey(conversationId) },
    UpdateExpression:
      'SET #id = :id, #updated_at = :at, #title = if_not_exists(#title, :title), ' +
      '#created_at = if_not_exists(#created_at, :at) ADD #turns :one',
    ExpressionAttributeNames: {
      '#id': 'id',
      '#updated_at': 'updated_at',
      '#title': 'title',
      '#created_at': 'created_at',
      '#turns': 'turns',
    },
    ExpressionAttributeValues: { ':id': conversationId, ':at': at, ':title': title, ':one': 1 },
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
