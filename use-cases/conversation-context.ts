/**
 * A turn's conversation on POST /chat's path: one small write at the turn's start records the turn on
 * its conversation item, says whether the conversation existed before and names its newest turns. Only
 * then are those read as context, and only those since it was created: a deleted or erased conversation's
 * turns (still being deleted, or reused by its id) are never context, and a new conversation costs no read.
 */
import { withoutRevisedTurns } from '../domain/context';
import { titleFromPrompt } from '../domain/conversation';
import { errorName } from '../domain/errors';
import type { ConversationActivity, NewTurn } from '../domain/ports';
import type { Turn } from '../domain/turn';
import type { ChatDeps } from './chat-turn';

/**
 * Records the turn on its conversation. Never rejects: if the write fails the answer goes ahead without
 * context (a struggling table must not refuse the prompt, and an unknown conversation may not give any).
 */
export function recordConversationTurn(
  deps: Pick<ChatDeps, 'conversations' | 'log'>,
  turn: NewTurn,
): Promise<ConversationActivity | undefined> {
  return deps.conversations
    .recordTurn(turn.userId, turn.conversationId, titleFromPrompt(turn.userMessage), turn.createdAt, turn.id)
    .catch((error: unknown) => {
      deps.log.warn('conversation record failed; answering without context', {
        message_id: turn.id,
        error: errorName(error),
      });
      return undefined;
    });
}

/**
 * The conversation's earlier turns for context, newest first; none for a conversation new to the table.
 * They are read after the record, which names them: two round trips before the first token, for one
 * request less per turn than an index Query beside the record. Only completed turns become context
 * (domain/context.ts), so a dead turn still stored in_progress needs no read repair here: it is left out
 * as an interrupted one would be.
 */
export async function contextTurns(
  deps: Pick<ChatDeps, 'repository' | 'config'>,
  turn: NewTurn,
  activity: ConversationActivity | undefined,
): Promise<Turn[]> {
  if (!activity?.existed) return [];
  const limit = deps.config.contextTurnsToRead;
  // The conversation item names its newest turns: one BatchGetItem, no index Query. An item from before it
  // kept them is read through the byConversation index.
  const earlier = activity.recentTurnIds
    ? await deps.repository.readTurns(turn.userId, activity.recentTurnIds.slice(0, limit))
    : (await deps.repository.listTurns(turn.userId, { limit, conversationId: turn.conversationId })).turns;
  return withoutRevisedTurns(
    earlier.filter((found) => found.createdAt >= activity.createdAt),
    turn.revises,
  );
}
