/** What a retry with a known Idempotency-Key is told, from its first attempt's turn as stored. */
import { describe, expect, it } from 'vitest';
import type { IdempotencyClaim } from '../../domain/ports';
import type { Turn } from '../../domain/turn';
import { replayClaim } from '../../use-cases/replay-turn';

const NOW = Date.UTC(2026, 5, 1, 12);
const MAX_TURN_MS = 240_000;
const caller = { userId: 'u', tier: 'free' } as const;

function stored(createdAt: number): Turn {
  return {
    userId: 'u',
    id: 'turn-1',
    conversationId: 'c',
    userMessage: 'q',
    assistantResponse: '',
    status: 'in_progress',
    createdAt: new Date(createdAt).toISOString(),
    updatedAt: new Date(createdAt).toISOString(),
  };
}

function replayOf(turn: Turn) {
  const claim: IdempotencyClaim = {
    messageId: turn.id,
    conversationId: turn.conversationId,
    requestHash: 'h',
    claimedAt: Date.parse(turn.createdAt),
  };
  const deps = {
    repository: { getTurn: async () => turn },
    clock: { now: () => NOW },
    config: { maxTurnMs: MAX_TURN_MS },
  };
  return replayClaim(deps, caller, claim, 'h').catch((error: unknown) => error);
}

describe('replayClaim', () => {
  it('holds a retry at 409 while its first attempt may still be streaming', async () => {
    expect(await replayOf(stored(NOW - MAX_TURN_MS))).toMatchObject({ code: 'in_progress' });
  });

  it('tells a retry its first attempt failed once that turn is in_progress past any turn and its time-out', async () => {
    // Read repair: the sweeper may mark it only once its quota window is over.
    expect(await replayOf(stored(NOW - MAX_TURN_MS - 60_001))).toMatchObject({
      code: 'upstream_error',
      details: { message_id: 'turn-1' },
    });
  });
});
