/**
 * Conversations as a resource: listed by activity, renamed, deleted with their turns. Every call acts in
 * the caller's partition only, so another user's conversation id is simply not found (404), never theirs.
 */
import type { Conversation, ConversationPage } from '../domain/conversation';
import { DomainError } from '../domain/errors';
import type { Clock, ConversationRepository, EraseJobQueue, Log, TurnEraser } from '../domain/ports';
import type { Caller } from '../domain/turn';

export interface ConversationDeps {
  readonly conversations: ConversationRepository;
  readonly eraser: TurnEraser;
  readonly eraseJobs: EraseJobQueue;
  readonly clock: Clock;
  readonly log: Log;
}

/**
 * How long a delete deletes turns before it answers: about 20,000 turns at dynalite's pace, far more on
 * DynamoDB, within the function's 30 s. A longer conversation is answered 204 with the rest left to an
 * erase job, and until it ran those older turns still show in history.
 */
export const DELETE_TURNS_BUDGET_MS = 20_000;

const notFound = () => new DomainError('not_found', 'No such conversation.');

export function listConversations(
  deps: Pick<ConversationDeps, 'conversations'>,
  caller: Caller,
  query: { readonly limit: number; readonly cursor?: string },
): Promise<ConversationPage> {
  return deps.conversations.list(caller.userId, query);
}

export async function renameConversation(
  deps: Pick<ConversationDeps, 'conversations'>,
  caller: Caller,
  conversationId: string,
  title: string,
): Promise<Conversation> {
  const renamed = await deps.conversations.rename(caller.userId, conversationId, title);
  if (!renamed) throw notFound();
  return renamed;
}

/**
 * Deletes the conversation item first, so a prompt sent to it from now on starts a new conversation that
 * sees none of the old turns as context, then the turns themselves. Not found only when neither existed (a
 * conversation from before conversation items still has its turns deleted).
 */
export async function deleteConversation(
  deps: ConversationDeps,
  caller: Caller,
  conversationId: string,
): Promise<{ readonly turnsDeleted: number; readonly done: boolean }> {
  const started = deps.clock.now();
  const scope = { userId: caller.userId, conversationId, before: new Date(started).toISOString() };
  const existed = await deps.conversations.remove(caller.userId, conversationId);
  const result = await deps.eraser.erase(scope, started + DELETE_TURNS_BUDGET_MS);
  if (!existed && result.done && result.deleted === 0) throw notFound();
  if (!result.done) {
    deps.log.warn('conversation delete left turns to an erase job', { deleted: result.deleted });
    await deps.eraseJobs.enqueue(scope);
  }
  return { turnsDeleted: result.deleted, done: result.done };
}
