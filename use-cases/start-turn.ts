/**
 * POST /chat's story: an Idempotency-Key retry replays what its first attempt became; otherwise the prompt
 * is admitted (or refused, costing nothing downstream), the key is claimed, and the turn runs up to its
 * first token (open-turn.ts), then streams (stream-turn.ts).
 */
import { createHash } from 'node:crypto';
import type { ChatRequest } from '../domain/chat-request';
import { errorName, isDomainError } from '../domain/errors';
import { ulid } from '../domain/ids';
import type { IdempotencyClaim, NewTurn } from '../domain/ports';
import type { Caller } from '../domain/turn';
import type { ActiveTurn, ChatDeps } from './chat-turn';
import { openTurn } from './open-turn';
import { replayClaim, stillAnswering } from './replay-turn';

export type { ActiveTurn, ChatConfig, ChatDeps, TurnEvent } from './chat-turn';

export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Starts a turn and resolves once the model's first token is in hand, so that every failure the
   * client can still be told about with a status code (refusal, dead server, time-out) is thrown
   * here, and a 200 is only ever sent for an answer that has started.
   */
  async begin(caller: Caller, request: ChatRequest): Promise<ActiveTurn> {
    const startedAt = this.deps.clock.now();
    const requestHash = hashRequest(request);

    // A retry with a known key never starts a second inference: it gets what the first attempt became.
    let abandoned: IdempotencyClaim | undefined;
    if (request.idempotencyKey) {
      const existing = await this.deps.idempotency.get(caller.userId, request.idempotencyKey);
      if (existing) {
        const replayed = await replayClaim(this.deps, caller, existing, requestHash);
        if (replayed) return replayed;
        abandoned = existing;
      }
    }

    // A refused prompt costs nothing downstream: no read, no inference call, no stored turn.
    const servers = await this.deps.admission.admit(caller.tier, request.retryAttempt ?? 0);
    const firstServer = await servers.pick(new Set());

    const turn: NewTurn = {
      userId: caller.userId,
      id: ulid(startedAt),
      conversationId: request.conversationId ?? ulid(startedAt),
      userMessage: request.prompt,
      createdAt: new Date(startedAt).toISOString(),
    };
    const key = request.idempotencyKey;
    if (!key) return openTurn(this.deps, turn, request, servers, firstServer, startedAt);

    const claim = {
      messageId: turn.id,
      conversationId: turn.conversationId,
      requestHash,
      claimedAt: startedAt,
    };
    if (abandoned) {
      // The attempt that held the key died before its turn was ever recorded: this retry takes the key over.
      const tookOver = await this.deps.idempotency.takeOver(caller.userId, key, abandoned.messageId, claim);
      if (!tookOver) throw stillAnswering();
    } else {
      const holder = await this.deps.idempotency.claim(caller.userId, key, claim);
      if (holder) {
        const replayed = await replayClaim(this.deps, caller, holder, requestHash);
        if (!replayed) throw stillAnswering();
        return replayed;
      }
    }
    try {
      return await openTurn(this.deps, turn, request, servers, firstServer, startedAt);
    } catch (error) {
      // A refusal for load (or our own failure) is something the client is told to retry with the same key:
      // free the key so that retry runs. A failed answer stays bound to it and replays as the same failure.
      const replayable =
        isDomainError(error) && (error.code === 'upstream_error' || error.code === 'upstream_timeout');
      if (!replayable) {
        await this.deps.idempotency.release(caller.userId, key, turn.id).catch((releaseError: unknown) => {
          this.deps.log.warn('idempotency key release failed', {
            message_id: turn.id,
            error: errorName(releaseError),
          });
        });
      }
      throw error;
    }
  }
}

/** What makes two POST /chat requests "the same" for an Idempotency-Key. */
function hashRequest(request: ChatRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([request.prompt, request.conversationId ?? null]))
    .digest('hex');
}
