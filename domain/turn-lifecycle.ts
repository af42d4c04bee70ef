import { DomainError, isDomainError } from './errors';
import { ulidTime } from './ids';
import type { Clock, Log, PendingTurnWrite, StopFlags, TurnRepository } from './ports';
import type { Caller, TurnOutcome } from './turn';

/**
 * POST /chat/stop: only the owner can stop a turn (others' turns are simply not found in their partition,
 * and the stop flag lives in the caller's own partition too). A turn whose in_progress record has not
 * landed yet (its write still being retried, or parked on the queue) is not visible: a stop for an id the
 * chat function minted within the longest turn is recorded all the same.
 */
export async function requestStop(
  deps: { repository: TurnRepository; stopFlags: StopFlags; clock: Clock; maxTurnMs: number },
  caller: Caller,
  messageId: string,
): Promise<{ status: 'stopping' }> {
  const { repository, stopFlags } = deps;
  const turn = await repository.getTurn(caller.userId, messageId);
  if (!turn) {
    const mintedAt = ulidTime(messageId);
    const now = deps.clock.now();
    const recent = mintedAt !== undefined && mintedAt <= now + 1000 && now - mintedAt <= deps.maxTurnMs;
    if (!recent) throw new DomainError('not_found', 'No turn of yours has this message_id.');
    await stopFlags.request(caller.userId, messageId);
    return { status: 'stopping' };
  }
  if (turn.status !== 'in_progress') {
    throw new DomainError('conflict', `The turn has already ended (${turn.status}).`, {
      message_id: messageId,
    });
  }
  await stopFlags.request(caller.userId, messageId);
  return { status: 'stopping' };
}

/**
 * Applies a write that the chat function parked on the queue. Idempotent: a start only creates a missing
 * turn, a finish only moves a turn out of in_progress, so a redelivery, or a write that reached the table
 * after all, changes nothing. A real outcome replaces `interrupted`, which the sweeper only inferred.
 */
export async function applyPendingWrite(
  repository: TurnRepository,
  write: PendingTurnWrite,
): Promise<boolean> {
  if (!write.outcome) {
    try {
      await repository.startTurn(write.turn);
      return true;
    } catch (error) {
      if (isDomainError(error) && error.code === 'conflict') return false;
      throw error;
    }
  }
  return repository.finishTurn(write.turn, write.outcome, { replaceInterrupted: true });
}

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
