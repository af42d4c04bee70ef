import { describe, expect, it } from 'vitest';
import { encodePendingWrite, parsePendingWrite } from '../../../adapters/sqs/pending-write-message';
import type { PendingTurnWrite } from '../../../domain/ports';

const at = Date.UTC(2026, 5, 1);
const turn = {
  userId: 'u',
  id: '01J0000000AAAAAAAAAAAAAAAA',
  conversationId: 'c',
  userMessage: 'hello',
  createdAt: new Date(at).toISOString(),
};

describe('pending write messages', () => {
  it('decodes what the queue adapter encodes: a parked start and a parked finish', () => {
    const writes: PendingTurnWrite[] = [
      { turn },
      {
        turn,
        outcome: { status: 'completed', assistantResponse: 'a', updatedAt: new Date(at).toISOString() },
      },
    ];
    for (const write of writes) {
      expect(parsePendingWrite(encodePendingWrite(write))).toEqual(write);
    }
  });

  it('rejects anything else', () => {
    const write = {
      turn,
      outcome: { status: 'completed', assistantResponse: 'a', updatedAt: new Date(at).toISOString() },
    };
    for (const body of [
      'null',
      '{}',
      JSON.stringify({ ...write, outcome: { ...write.outcome, status: 'in_progress' } }),
      JSON.stringify({ turn: { ...turn, id: 7 } }),
    ]) {
      expect(() => parsePendingWrite(body)).toThrow();
    }
    expect(() => parsePendingWrite('not json')).toThrow();
  });
});
