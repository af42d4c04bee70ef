/**
 * Erasing everything a user has: the erase mark first (from then on history and export hide every turn
 * created before it), the conversation items next (so no prompt finds an old conversation to take context
 * from), both before the 202; then the turns, in the request while that is quick, else by an erase job on
 * the turn-writes queue, whose persister run continues it (a continuation per run) until none is left.
 */
import type { Erasure } from '../domain/conversation';
import type {
  Clock,
  ConversationRepository,
  EraseJobQueue,
  EraseScope,
  ErasureMarks,
  Log,
  TurnEraser,
} from '../domain/ports';
import type { Caller } from '../domain/turn';

export interface EraseDeps {
  readonly conversations: ConversationRepository;
  readonly marks: ErasureMarks;
  readonly eraser: TurnEraser;
  readonly eraseJobs: EraseJobQueue;
  readonly clock: Clock;
  readonly log: Log;
}

/** Deleting turns within DELETE /chat/history (its function has 10 s): a small history is erased at once. */
export const ERASE_IN_REQUEST_MS = 3_000;
/** Deleting turns per erase job run (the persister has 10 s, and shares the run with parked writes). */
export const ERASE_PER_JOB_MS = 5_000;

export async function eraseHistory(deps: EraseDeps, caller: Caller): Promise<Erasure> {
  const started = deps.clock.now();
  const scope: EraseScope = { userId: caller.userId, before: new Date(started).toISOString() };
  await deps.marks.begin(scope.userId, scope.before);
  await deps.conversations.removeAll(scope.userId);
  const result = await deps.eraser.erase(scope, started + ERASE_IN_REQUEST_MS);
  if (result.done) {
    await deps.marks.complete(scope.userId, scope.before);
    return { erasedBefore: scope.before, status: 'complete' };
  }
  deps.log.info('history erase continues in an erase job', { deleted: result.deleted });
  await deps.eraseJobs.enqueue(scope);
  return { erasedBefore: scope.before, status: 'erasing' };
}

export function eraseStatus(deps: Pick<EraseDeps, 'marks'>, caller: Caller): Promise<Erasure | undefined> {
  return deps.marks.get(caller.userId);
}

/** One run of an erase job: deletes until its budget is spent, then queues its continuation. */
export async function runEraseJob(
  deps: Pick<EraseDeps, 'marks' | 'eraser' | 'eraseJobs' | 'clock'>,
  scope: EraseScope,
  budgetMs = ERASE_PER_JOB_MS,
): Promise<{ readonly deleted: number; readonly done: boolean }> {
  const result = await deps.eraser.erase(scope, deps.clock.now() + budgetMs);
  if (!result.done) await deps.eraseJobs.enqueue(scope);
  else if (scope.conversationId === undefined) await deps.marks.complete(scope.userId, scope.before);
  return result;
}
