import { isFinalTurnStatus } from '../contract/turn';
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

/** Parses a queued write; a malformed body throws (and lands in the DLQ after the retries). */
export function parsePendingWrite(body: string): PendingTurnWrite {
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('Pending write is not an object');
  const { turn, outcome } = parsed as { turn?: Record<string, unknown>; outcome?: Record<string, unknown> };
  const isString = (value: unknown): value is string => typeof value === 'string';
  if (
    !turn ||
    !isString(turn.userId) ||
    !isString(turn.id) ||
    !isString(turn.conversationId) ||
    !isString(turn.userMessage) ||
    !isString(turn.createdAt) ||
    (outcome !== undefined &&
      (!isFinalTurnStatus(outcome.status) ||
        !isString(outcome.assistantResponse) ||
        !isString(outcome.updatedAt)))
  ) {
    throw new Error('Pending write is malformed');
  }
  return parsed as PendingTurnWrite;
}
