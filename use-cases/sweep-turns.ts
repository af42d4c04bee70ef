import { errorName } from '../domain/errors';
import type { Clock, Log, StopInboxSweeper, TurnRepository } from '../domain/ports';
import type { TurnOutcome } from '../domain/turn';

/**
 * Marks turns `interrupted` that have been in_progress longer than any stream can last: their process
 * died mid-stream (a Lambda timeout or crash; locally, a killed stack). The conditional finish means a
 * turn that ends on its own at the same moment keeps its real outcome.
 */
export async function sweepInterruptedTurns(
  deps: { repository: TurnRepository; clock: Clock; log: Log },
  olderThanMs: number,
  batchSize = 100,
): Promise<number> {
  const cutoff = deps.clock.now() - olderThanMs;
  let marked = 0;
  for (;;) {
    const stale = await deps.repository.listStaleTurns(cutoff, batchSize);
    if (stale.length === 0) break;
    let progressed = false;
    for (const turn of stale) {
      const outcome: TurnOutcome = {
        status: 'interrupted',
        assistantResponse: '',
        errorCode: 'interrupted',
        updatedAt: new Date(deps.clock.now()).toISOString(),
      };
      const applied = await deps.repository.finishTurn(turn, outcome);
      if (applied) {
        marked++;
        progressed = true;
        deps.log.info('turn marked interrupted', { message_id: turn.id, created_at: turn.createdAt });
      }
    }
    // The index lags the table: if nothing changed, the rest are turns that already ended.
    if (!progressed || stale.length < batchSize) break;
  }
  return marked;
}

/**
 * Deletes stop inboxes no container can still be using: containers rotate theirs hourly
 * (`rotateAfterMs`), so one older than twice that belongs to a container that is gone. A failure is
 * logged, not thrown: stray inboxes cost nothing and the next sweep tries again.
 */
export async function sweepStopInboxes(
  deps: { inboxes: StopInboxSweeper; clock: Clock; log: Log },
  rotateAfterMs: number,
): Promise<number> {
  try {
    return await deps.inboxes.deleteOlderThan(deps.clock.now(), 2 * rotateAfterMs);
  } catch (error) {
    deps.log.warn('stop inbox sweep failed', { error: errorName(error) });
    return 0;
  }
}
