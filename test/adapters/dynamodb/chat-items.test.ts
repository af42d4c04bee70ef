/** The chat table's item codec on its own (the repositories' tests cover it against dynalite). */
import { describe, expect, it } from 'vitest';
import {
  finishTurnUpdate,
  idempotencyClaimItem,
  liveIdempotencyClaimFromItem,
  startedTurnItem,
  storedTurnItem,
  turnFromItem,
} from '../../../adapters/dynamodb/chat-items';
import type { NewTurn } from '../../../domain/ports';

const turn: NewTurn = {
  userId: 'user-1',
  id: '01J0000000AAAAAAAAAAAAAAAA',
  conversationId: 'conv-1',
  userMessage: 'hello',
  createdAt: '2026-06-01T00:00:00.000Z',
  server: 'gpu-1',
};

describe('turn items', () => {
  it('reads back a started turn, in progress and in no index but its conversation', () => {
    const item = startedTurnItem(turn);
    expect(item).toMatchObject({ sk: `TURN#${turn.id}`, conv: 'user-1#conv-1' });
    expect(item).not.toHaveProperty('inflight');
    expect(turnFromItem({ ...item })).toEqual({
      ...turn,
      assistantResponse: '',
      status: 'in_progress',
      updatedAt: turn.createdAt,
    });
  });

  it("keys a stored turn by the claim's turn id and keeps the client's id", () => {
    const item = storedTurnItem(
      {
        userId: 'user-1',
        clientId: 'client-7',
        turnId: 'ignored',
        conversationId: 'conv-1',
        userMessage: 'q',
        assistantResponse: 'a',
        createdAt: 'ignored',
      },
      '01J0000000BBBBBBBBBBBBBBBB',
      '2026-06-01T00:00:01.000Z',
    );
    expect(item).toMatchObject({
      sk: 'TURN#01J0000000BBBBBBBBBBBBBBBB',
      id: 'client-7',
      status: 'completed',
    });
    expect(item).not.toHaveProperty('inflight');
  });

  it('refuses a turn item with an unknown status or a missing attribute', () => {
    const item = startedTurnItem(turn);
    expect(() => turnFromItem({ ...item, status: 'done' })).toThrow(/status done/);
    expect(() => turnFromItem({ ...item, user_message: undefined })).toThrow(/user_message/);
  });

  it("keeps a completed turn's message count and the oldest turn its prompt held", () => {
    const outcome = {
      status: 'completed' as const,
      assistantResponse: 'a',
      usage: { promptTokens: 40, completionTokens: 5 },
      messageTokens: 12,
      contextFrom: '01J0000000CCCCCCCCCCCCCCCC',
      updatedAt: turn.createdAt,
    };
    const update = finishTurnUpdate(turn, outcome, false);
    expect(update.UpdateExpression).toContain('#message_tokens = :message_tokens');
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':message_tokens': 12,
      ':context_from': '01J0000000CCCCCCCCCCCCCCCC',
    });
    const item = { ...startedTurnItem(turn), status: 'completed', message_tokens: 12, context_from: 'x' };
    expect(turnFromItem(item)).toMatchObject({ messageTokens: 12, contextFrom: 'x' });
    expect(turnFromItem({ ...item, message_tokens: '12' })).not.toHaveProperty('messageTokens');
    expect(turnFromItem({ ...startedTurnItem(turn) })).not.toHaveProperty('messageTokens');
  });

  it('stores what a turn revises (regenerate_of or edit_of) at its start and at its end, and reads it back', () => {
    for (const revises of [
      { kind: 'regeneration' as const, of: '01J0000000DDDDDDDDDDDDDDDD' },
      { kind: 'edit' as const, of: '01J0000000EEEEEEEEEEEEEEEE' },
    ]) {
      const revising = { ...turn, revises };
      const attribute = revises.kind === 'regeneration' ? 'regenerate_of' : 'edit_of';
      const item = startedTurnItem(revising);
      expect(item).toMatchObject({ [attribute]: revises.of });
      expect(turnFromItem({ ...item })).toMatchObject({ revises });
      // The end writes it only where absent: a turn whose start write was lost keeps it too.
      const update = finishTurnUpdate(
        revising,
        { status: 'completed', assistantResponse: 'a', updatedAt: turn.createdAt },
        false,
      );
      expect(update.UpdateExpression).toContain(
        `#${attribute} = if_not_exists(#${attribute}, :${attribute})`,
      );
      expect(update.ExpressionAttributeValues).toMatchObject({ [`:${attribute}`]: revises.of });
    }
    expect(startedTurnItem(turn)).not.toHaveProperty('regenerate_of');
    expect(turnFromItem({ ...startedTurnItem(turn) })).not.toHaveProperty('revises');
  });

  it('ends a turn only from in_progress, or also from interrupted when asked, dropping its stop inbox', () => {
    const outcome = { status: 'completed' as const, assistantResponse: 'a', updatedAt: turn.createdAt };
    const plain = finishTurnUpdate(turn, outcome, false);
    const replacing = finishTurnUpdate(turn, outcome, true);
    expect(plain.ConditionExpression).toBe('attribute_not_exists(#pk) OR #status = :in_progress');
    expect(replacing.ConditionExpression).toContain(':interrupted');
    expect(plain.UpdateExpression).toMatch(/ REMOVE #stop_inbox$/);
    expect(plain.UpdateExpression).toContain('#user_message = if_not_exists(#user_message, :user_message)');
  });
});

describe('idempotency claim items', () => {
  const claim = { messageId: 'm1', conversationId: 'c1', requestHash: 'h1', claimedAt: 1_750_000_000_000 };

  it('reads back a live claim and treats an expired one as absent', () => {
    const item = idempotencyClaimItem('user-1', 'key-1', claim, 2_000);
    expect(item.sk).toBe('IDEM#key-1');
    expect(liveIdempotencyClaimFromItem(item, 1_999)).toEqual(claim);
    expect(liveIdempotencyClaimFromItem(item, 2_001)).toBeUndefined();
  });

  it('refuses a live claim without claimed_at (every writer sets it)', () => {
    const { claimed_at: _omitted, ...item } = idempotencyClaimItem('user-1', 'key-1', claim, 2_000);
    expect(() => liveIdempotencyClaimFromItem(item, 1_999)).toThrow('Malformed idempotency claim');
  });
});
