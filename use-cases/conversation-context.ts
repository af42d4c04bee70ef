/**
 * A turn's conversation on POST /chat's path: one small write at the turn's start records the turn on
 * its conversation item and says whether the conversation existed before. Only then are its earlier turns
 * read as context, and only those since it was created: a deleted or erased conversation's turns (still
 * being deleted, or reused by its id) are never context, and a new conversation costs no context read.
 */
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
    .recordTurn(turn.userId, turn.conversationId, titleFromPrompt(turn.userMessage), turn.createdAt)
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
 * They are read beside the conversation's record, not after it: one round trip before the first token, not
 * two. Only a prompt into a conversation that is gone (deleted, erased) reads turns it then discards.
 */
export async function contextTurns(
  deps: Pick<ChatDeps, 'repository' | 'config'>,
  turn: NewTurn,
  recorded: Promise<ConversationActivity | undefined>,
): Promise<Turn[]> {
  // Settled into a value at once: a read failing while the record is awaited is no unhandled rejection.
  const page = deps.repository
    .listTurns(turn.userId, {
      limit: deps.config.contextTurnsToRead,
      conversationId: turn.conversationId,
    })
    .then(
      (found) => ({ turns: found.turns }),
      (error: unknown) => ({ error }),
    );
  const activity = await recorded;
  if (!activity?.existed) return [];
  const read = await page;
  if ('error' in read) throw read.error;
  return read.turns.filter((earlier) => earlier.createdAt >= activity.createdAt);
}
