/**
 * POST /chat under the caller's quota: the prompt is counted (and a stream slot taken) before admission,
 * with one conditional write that never touches the fleet; the slot is freed when the turn ends. A
 * prompt refused afterwards (for load, as a conflict, or replayed from an Idempotency-Key) is refunded:
 * only a turn that ran counts. If the counter itself fails, the prompt is admitted uncounted (static
 * stability: a throttled table must not refuse everyone). The slot is named by the turn's id, so a slot
 * never released names the turn whose process died: the sweeper finds those, and so does a grant that
 * drops expired slots, which marks their turns interrupted in the background.
 */
import type { ChatRequest } from '../domain/chat-request';
import { errorName, isDomainError } from '../domain/errors';
import { ulid } from '../domain/ids';
import type { Clock, Log, QuotaCounter, QuotaDecision, StreamSlot, TurnRepository } from '../domain/ports';
import {
  promptLimits,
  type QuotaPolicy,
  type RateLimitState,
  rateLimited,
  rateLimitState,
} from '../domain/quota';
import type { Caller } from '../domain/turn';
import type { ActiveTurn, ChatService, TurnEvent } from './start-turn';
import { interrupt } from './sweep-turns';

export interface MeteredChatDeps {
  readonly chat: Pick<ChatService, 'begin' | 'replay'>;
  readonly quota: QuotaCounter;
  /** Where the turns of abandoned slots are marked interrupted. */
  readonly turns: Pick<TurnRepository, 'interruptTurn'>;
  readonly policy: QuotaPolicy;
  readonly clock: Clock;
  readonly log: Log;
}

/** A turn begun, or why not; either way what the rate-limit headers say. */
export type MeteredTurn =
  | { readonly turn: ActiveTurn; readonly error?: undefined; readonly rateLimit: RateLimitState }
  | { readonly turn?: undefined; readonly error: unknown; readonly rateLimit: RateLimitState };

export class MeteredChat {
  constructor(private readonly deps: MeteredChatDeps) {}

  async begin(caller: Caller, request: ChatRequest): Promise<MeteredTurn> {
    const { chat, clock, log } = this.deps;
    const now = clock.now();
    const limits = promptLimits(this.deps.policy, caller.tier);
    const turnId = ulid(now);
    let decision: QuotaDecision | undefined;
    try {
      decision = await this.deps.quota.acquire(caller.userId, turnId, limits, now);
    } catch (error) {
      log.warn('quota counter failed; prompt admitted uncounted', { error: errorName(error) });
    }
    if (decision?.granted && decision.abandoned) this.interruptAbandoned(caller, decision.abandoned);

    if (decision && !decision.granted) {
      const rateLimit = rateLimitState(limits, now, decision.prompts);
      // A retry of a prompt that already ran is not a new prompt: it replays even with the quota spent.
      try {
        const replayed = await chat.replay(caller, request);
        if (replayed) return { turn: replayed, rateLimit };
      } catch (error) {
        return { error, rateLimit };
      }
      return { error: rateLimited(decision.reason, decision.retryAfterMs), rateLimit };
    }

    const slot = decision?.slot;
    const counted = rateLimitState(limits, now, decision?.prompts);
    const refunded = rateLimitState(limits, now, decision && decision.prompts - 1);
    let turn: ActiveTurn;
    try {
      turn = await chat.begin(caller, request, { turnId });
    } catch (error) {
      if (!slot) return { error, rateLimit: counted };
      if (consumesPrompt(error)) {
        await this.giveBack('release', caller, slot);
        return { error, rateLimit: counted };
      }
      await this.giveBack('refund', caller, slot);
      return { error, rateLimit: refunded };
    }
    if (!slot) return { turn, rateLimit: counted };
    if (turn.serverId === undefined) {
      // Replayed from the table (Idempotency-Key): counted once, by the attempt that ran.
      await this.giveBack('refund', caller, slot);
      return { turn, rateLimit: refunded };
    }
    const events = () => freeingSlot(turn.events(), () => this.giveBack('release', caller, slot));
    return { turn: { ...turn, events }, rateLimit: counted };
  }

  /**
   * The turns of slots whose lease ran out unreleased died with their process: marked interrupted in the
   * background (the sweeper would, once their window ends), never failing nor delaying the request.
   */
  private interruptAbandoned(caller: Caller, ids: readonly string[]): void {
    const slots = ids.map((id) => ({ userId: caller.userId, id }));
    interrupt({ repository: this.deps.turns, clock: this.deps.clock, log: this.deps.log }, slots).catch(
      (error: unknown) => {
        this.deps.log.warn('interrupting abandoned turns failed; the sweeper will', {
          error: errorName(error),
        });
      },
    );
  }

  /** Never fails the request: a slot not released expires with its lease. */
  private async giveBack(how: 'release' | 'refund', caller: Caller, slot: StreamSlot): Promise<void> {
    try {
      if (how === 'release') await this.deps.quota.release(caller.userId, slot);
      else await this.deps.quota.refund(caller.userId, slot, this.deps.clock.now());
    } catch (error) {
      this.deps.log.warn(`quota ${how} failed; the slot expires with its lease`, {
        error: errorName(error),
      });
    }
  }
}

/**
 * A failure after which the prompt stays counted: the fleet worked on it and its Idempotency-Key stays
 * bound to the failure (start-turn.ts), so a retry replays it rather than running again.
 */
function consumesPrompt(error: unknown): boolean {
  return isDomainError(error) && (error.code === 'upstream_error' || error.code === 'upstream_timeout');
}

/** The turn's events, then its stream slot freed, however the turn ended. */
async function* freeingSlot(
  events: AsyncGenerator<TurnEvent>,
  free: () => Promise<void>,
): AsyncGenerator<TurnEvent> {
  try {
    yield* events;
  } finally {
    await free();
  }
}
