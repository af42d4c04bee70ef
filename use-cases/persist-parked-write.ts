import { isDomainError } from '../domain/errors';
import type { PendingTurnWrite, TurnRepository } from '../domain/ports';

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
