/**
 * POST /chat's story: an Idempotency-Key retry replays what its first attempt became; otherwise the prompt
 * is admitted (or refused, costing nothing downstream), the key is claimed, and the turn runs up to its
 * first token (open-turn.ts), then streams (stream-turn.ts).
 */
import { createHash } from 'node:crypto';
import { ENTITLEMENTS } from '../contract/entitlements';
import type { ChatRequest } from '../domain/chat-request';
import { errorName, isDomainError } from '../domain/errors';
import { ulid } from '../domain/ids';
import type { IdempotencyClaim, NewTurn } from '../domain/ports';
import type { Caller } from '../domain/turn';
import type { ActiveTurn, ChatDeps } from './chat-turn';
import { openTurn } from './open-turn';
import { replayClaim, stillAnswering } from './replay-turn';

export type { ActiveTurn, ChatConfig, ChatDeps, TurnEvent } from './chat-turn';

export interface BeginOptions {
  /**
   * The new turn's id (a ULID of about now), when the caller already named it: the quota's stream slot
   * carries the id of the turn it streams (metered-chat.ts). A fresh one otherwise.
   */
  readonly turnId?: string;
}

export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Starts a turn and resolves once the model's first token is in hand, so that every failure the
   * client can still be told about with a status code (refusal, dead server, time-out) is thrown
   * here, and a 200 is only ever sent for an answer that has started.
   */
  async begin(caller: Caller, request: ChatRequest, options: BeginOptions = {}): Promise<ActiveTurn> {
    const startedAt = this.deps.clock.now();
    const requestHash = hashRequest(request);
    const key = request.idempotencyKey;

    // A refused prompt costs nothing downstream: no inference call, no stored turn. Only a refused prompt
    // with a key reads: a retry of an answer that exists gets it even while the fleet is busy.
    let servers: Awaited<ReturnType<ChatDeps['admission']['admit']>>;
    try {
      servers = await this.deps.admission.admit(caller.tier, request.retryAttempt ?? 0);
    } catch (refusal) {
      const replayed = await this.replay(caller, request);
      if (replayed) return replayed;
      throw refusal;
    }
    const firstServer = await servers.pick(new Set());
    // The tier's answer cap, within the deployment's ceiling (MAX_ANSWER_TOKENS, which time-outs are sized for).
    const maxAnswerTokens = Math.min(
      this.deps.config.maxAnswerTokens,
      ENTITLEMENTS[caller.tier].answerTokensPerTurn,
    );
    const deps: ChatDeps = { ...this.deps, config: { ...this.deps.config, maxAnswerTokens } };

    const turn: NewTurn = {
      userId: caller.userId,
      id: options.turnId ?? ulid(startedAt),
      conversationId: request.conversationId ?? ulid(startedAt),
      userMessage: request.prompt,
      createdAt: new Date(startedAt).toISOString(),
      ...(request.revises ? { revises: request.revises } : {}),
    };
    // From here on, every line of the request names the turn (first-token retries, write parks).
    this.deps.log.addRequestKeys?.({ message_id: turn.id });
    if (!key) return openTurn(deps, turn, request, servers, firstServer, startedAt);

    // Claim first, beside the upstream request: the claim is one conditional write and reads only when the
    // key is taken. The turn is written only once the key is ours; an undeclared duplicate that finds it
    // taken is replayed and its upstream request closed at once, before its first token as a rule.
    const claim = this.claimKey(caller, key, requestHash, {
      messageId: turn.id,
      conversationId: turn.conversationId,
      requestHash,
      claimedAt: startedAt,
    });
    try {
      // A declared retry (x-retry-attempt, which the web client sends on every retry) is the request likely
      // to find its key taken: it claims before any upstream request, so it never starts a second inference.
      if ((request.retryAttempt ?? 0) > 0) await claim;
      return await openTurn(deps, turn, request, servers, firstServer, startedAt, claim);
    } catch (error) {
      if (error instanceof KeyHeldElsewhere) return error.replay;
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

  /**
   * What an earlier attempt with this request's Idempotency-Key became, for a prompt refused before it
   * could claim the key (for load, or by quota): one read, only on that path. Undefined without one.
   */
  async replay(caller: Caller, request: ChatRequest): Promise<ActiveTurn | undefined> {
    const key = request.idempotencyKey;
    const existing = key ? await this.deps.idempotency.get(caller.userId, key) : undefined;
    return existing && (await replayClaim(this.deps, caller, existing, hashRequest(request)));
  }

  /**
   * Resolves once the key is this attempt's; rejects with KeyHeldElsewhere (the earlier attempt's replay)
   * or the reason the earlier attempt cannot be replayed yet (still answering, another request).
   */
  private async claimKey(
    caller: Caller,
    key: string,
    requestHash: string,
    claim: IdempotencyClaim,
  ): Promise<void> {
    const holder = await this.deps.idempotency.claim(caller.userId, key, claim);
    if (!holder) return;
    const replayed = await replayClaim(this.deps, caller, holder, requestHash);
    if (replayed) throw new KeyHeldElsewhere(replayed);
    // The attempt that held the key died before its turn was ever recorded: this retry takes the key over.
    if (!(await this.deps.idempotency.takeOver(caller.userId, key, holder.messageId, claim))) {
      throw stillAnswering();
    }
  }
}

/** The key belongs to an earlier attempt whose outcome this retry replays. */
class KeyHeldElsewhere extends Error {
  constructor(readonly replay: ActiveTurn) {
    super('Idempotency-Key held by an earlier attempt');
  }
}

/** What makes two POST /chat requests "the same" for an Idempotency-Key. */
function hashRequest(request: ChatRequest): string {
  const fields: unknown[] = [request.prompt, request.conversationId ?? null];
  // POST /chat's hash is unchanged; a client's own earlier messages are part of its request.
  if (request.history) fields.push(request.history);
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}
