/**
 * What a retry with a known Idempotency-Key of POST /chat gets: the stored answer, a 409 while the first
 * attempt is in flight, or the same failure. A retry never starts a second inference.
 */

import type { ErrorCode } from '../contract/errors';
import { DomainError } from '../domain/errors';
import type { Clock, IdempotencyClaim, TurnRepository } from '../domain/ports';
import { asRead } from '../domain/read-repair';
import type { Caller } from '../domain/turn';
import type { ActiveTurn, ChatConfig } from './chat-turn';

export interface ReplayDeps {
  readonly repository: Pick<TurnRepository, 'getTurn'>;
  readonly clock: Clock;
  readonly config: Pick<ChatConfig, 'maxTurnMs'>;
}

/**
 * Beyond the longest turn: time for a parked start write to reach the table before a key counts as
 * abandoned, and for a streaming turn's process to be gone (the chat function's time-out).
 */
const ABANDONED_CLAIM_MARGIN_MS = 60_000;

/**
 * What an earlier attempt with the same Idempotency-Key became; undefined when that attempt is known dead
 * without ever having recorded its turn (its claim is older than the longest turn), so the key may be taken over.
 */
export async function replayClaim(
  deps: ReplayDeps,
  caller: Caller,
  claim: IdempotencyClaim,
  requestHash: string,
): Promise<ActiveTurn | undefined> {
  if (claim.requestHash !== requestHash) {
    throw new DomainError('conflict', 'This Idempotency-Key was already used with a different request.');
  }
  const stored = await deps.repository.getTurn(caller.userId, claim.messageId);
  // Past the longest turn an in_progress turn's process is dead (read repair: the sweeper may write it only
  // once the turn's quota window is over), so the retry is told it failed rather than to wait.
  const turn =
    stored &&
    asRead(stored, {
      now: deps.clock.now(),
      interruptedAfterMs: deps.config.maxTurnMs + ABANDONED_CLAIM_MARGIN_MS,
    });
  if (!turn) {
    if (deps.clock.now() - claim.claimedAt > deps.config.maxTurnMs + ABANDONED_CLAIM_MARGIN_MS) {
      return undefined;
    }
    // Not a message id: the turn it names may never exist (the attempt may still be refused or die).
    throw stillAnswering();
  }
  if (turn.status === 'in_progress') {
    throw new DomainError(
      'in_progress',
      'The first request with this Idempotency-Key is still being answered.',
      {
        message_id: claim.messageId,
      },
    );
  }
  if (turn.status === 'failed' || turn.status === 'interrupted') {
    const code: ErrorCode = turn.status === 'interrupted' ? 'upstream_error' : toErrorCode(turn.errorCode);
    throw new DomainError(code, 'The first request with this Idempotency-Key failed.', {
      message_id: claim.messageId,
    });
  }
  const status = turn.status;
  return {
    messageId: turn.id,
    conversationId: turn.conversationId,
    async *events() {
      if (turn.assistantResponse) yield { type: 'content', text: turn.assistantResponse };
      yield {
        type: 'end',
        status,
        stored: true,
        ...(turn.finishReason ? { finishReason: turn.finishReason } : {}),
        ...(turn.usage ? { usage: turn.usage } : {}),
      };
    },
  };
}

export function stillAnswering(): DomainError {
  return new DomainError(
    'in_progress',
    'The first request with this Idempotency-Key is still being answered.',
  );
}

const REPLAYABLE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'upstream_error',
  'upstream_timeout',
  'upstream_auth',
  'overloaded',
]);

function toErrorCode(code: string | undefined): ErrorCode {
  return code !== undefined && REPLAYABLE_CODES.has(code) ? (code as ErrorCode) : 'upstream_error';
}
