import { DomainError } from './errors';
import type { Clock, Log, PendingTurnWrite, StopFlags, TurnRepository } from './ports';
import type { Caller, TurnOutcome } from './turn';

/** POST /chat/stop: only the owner can stop a turn (others' turns are simply not found in their partition). */
export async function requestStop(
  repository: TurnRepository,
  stopFlags: StopFlags,
  caller: Caller,
  messageId: string,
): Promise<{ status: 'stopping' }> {
  const turn = await repository.getTurn(caller.userId, messageId);
  if (!turn) throw new DomainError('not_found', 'No turn of yours has this message_id.');
  if (turn.status !== 'in_progress') {
    throw new DomainError('conflict', `The turn has already ended (${turn.status}).`, {
      message_id: messageId,
    });
  }
  await stopFlags.request(caller.userId, messageId);
  return { status: 'stopping' };
}

/**
 * Applies a final write that the chat function parked on the queue. Idempotent: finishTurn only moves
 * a turn out of in_progress, so a redelivery, or a write that reached the table after all, changes nothing.
 */
export async function applyPendingWrite(
  repository: TurnRepository,
  write: PendingTurnWrite,
): Promise<boolean> {
  return repository.finishTurn(write.turn, write.outcome);
}

/** Parses a queued write; a malformed body throws (and lands in the DLQ after the retries). */
export function parsePendingWrite(body: string): PendingTurnWrite {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('Pending write is not an object');
  const { turn, outcome } = parsed as { turn?: Record<string, unknown>; outcome?: Record<string, unknown> };
  const isString = (value: unknown): value is string => typeof value === 'string';
  if (
    !turn ||
    !outcome ||
    !isString(turn.userId) ||
    !isString(turn.id) ||
    !isString(turn.conversationId) ||
    !isString(turn.userMessage) ||
    !isString(turn.createdAt) ||
    !isString(outcome.status) ||
    !['completed', 'failed', 'stopped', 'interrupted'].includes(outcome.status) ||
    !isString(outcome.assistantResponse) ||
    !isString(outcome.updatedAt)
  ) {
    throw new Error('Pending write is malformed');
  }
  return parsed as PendingTurnWrite;
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
