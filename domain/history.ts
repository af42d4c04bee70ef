import type { HistoryRequest, StoreRequest } from './chat-request';
import { ulid } from './ids';
import type { Clock, HistoryPage, TurnRepository } from './ports';
import type { Caller } from './turn';

export function listHistory(
  repository: TurnRepository,
  caller: Caller,
  request: HistoryRequest,
): Promise<HistoryPage> {
  return repository.listTurns(caller.userId, request);
}

/**
 * Stores a finished turn sent by a client. Idempotent on the client's id; without one, every call
 * is a new turn. The sort-key id is derived from the turn's timestamp so history stays in time order.
 */
export async function storeTurn(
  repository: TurnRepository,
  clock: Clock,
  caller: Caller,
  request: StoreRequest,
): Promise<{ id: string; turnId: string; created: boolean; conversationId: string; createdAt: string }> {
  const at = request.timestamp ?? clock.now();
  const turnId = ulid(at);
  const id = request.id ?? turnId;
  // Derived from the client's id, not the fresh turn id, so a retry of the same store is a duplicate, not a conflict.
  const conversationId = request.conversationId ?? id;
  const createdAt = new Date(at).toISOString();
  const result = await repository.storeTurn({
    userId: caller.userId,
    clientId: id,
    turnId,
    conversationId,
    userMessage: request.userMessage,
    assistantResponse: request.assistantResponse,
    createdAt,
  });
  return { id, turnId, created: result === 'created', conversationId, createdAt };
}
