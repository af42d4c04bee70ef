/**
 * The body of a turn write parked on the turn-writes queue: the PendingTurnWrite as JSON. Encoded by
 * sqs-turn-write-queue.ts, decoded by the persister (functions/persist-turns.ts): one module for both
 * ends, so the two cannot drift.
 */
import { isFinalTurnStatus } from '../../contract/turn';
import type { PendingTurnWrite } from '../../domain/ports';

export function encodePendingWrite(write: PendingTurnWrite): string {
  return JSON.stringify(write);
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
