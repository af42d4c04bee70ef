/**
 * POST /chat/store under the caller's daily stored-bytes entitlement: the bytes are counted first (one
 * conditional write), given back when nothing new was written (a duplicate, a conflict, a failure). If the
 * counter fails, the store goes ahead uncounted (static stability), as POST /chat does.
 */
import { ENTITLEMENTS } from '../contract/entitlements';
import type { StoreRequest } from '../domain/chat-request';
import { titleFromPrompt } from '../domain/conversation';
import { errorName } from '../domain/errors';
import { storeTurn } from '../domain/history';
import type { Clock, ConversationRepository, Log, QuotaCounter, TurnRepository } from '../domain/ports';
import { rateLimited } from '../domain/quota';
import type { Caller } from '../domain/turn';

export interface StoreDeps {
  readonly repository: TurnRepository;
  /** A new stored turn is recorded on its conversation, as a turn of POST /chat is. */
  readonly conversations: ConversationRepository;
  readonly quota: QuotaCounter;
  readonly clock: Clock;
  readonly log: Log;
}

/** What a store counts: the UTF-8 bytes it asks the table to keep. */
export const storedBytes = (request: Pick<StoreRequest, 'userMessage' | 'assistantResponse'>): number =>
  Buffer.byteLength(request.userMessage) + Buffer.byteLength(request.assistantResponse);

export async function storeWithinQuota(
  deps: StoreDeps,
  caller: Caller,
  request: StoreRequest,
): Promise<{ id: string; created: boolean }> {
  const now = deps.clock.now();
  const bytes = storedBytes(request);
  let grant: Awaited<ReturnType<QuotaCounter['addStoredBytes']>> | undefined;
  try {
    grant = await deps.quota.addStoredBytes(
      caller.userId,
      bytes,
      ENTITLEMENTS[caller.tier].storedBytesPerDay,
      now,
    );
  } catch (error) {
    deps.log.warn('quota counter failed; store accepted uncounted', { error: errorName(error) });
  }
  if (grant && !grant.granted) throw rateLimited('stored_bytes', grant.retryAfterMs);
  const counted = grant?.granted === true;
  let result: { id: string; created: boolean } | undefined;
  try {
    const stored = await storeTurn(deps.repository, deps.clock, caller, request);
    result = { id: stored.id, created: stored.created };
    if (stored.created) {
      // The turn is stored either way; a conversation item that missed it only lists it less accurately.
      await deps.conversations
        .recordTurn(
          caller.userId,
          stored.conversationId,
          titleFromPrompt(request.userMessage),
          stored.createdAt,
          stored.turnId,
        )
        .catch((error: unknown) => {
          deps.log.warn('conversation record of a stored turn failed', { error: errorName(error) });
        });
    }
    return result;
  } finally {
    if (counted && !result?.created) {
      await deps.quota.refundStoredBytes(caller.userId, bytes, now).catch((error: unknown) => {
        deps.log.warn('stored bytes refund failed', { error: errorName(error) });
      });
    }
  }
}
