import { describe, expect, it } from 'vitest';
import { asRead } from '../../domain/read-repair';
import type { Turn } from '../../domain/turn';

const createdAt = Date.UTC(2026, 5, 1, 10);
const turn: Turn = {
  userId: 'u',
  id: 't',
  conversationId: 'c',
  userMessage: 'q',
  assistantResponse: '',
  status: 'in_progress',
  createdAt: new Date(createdAt).toISOString(),
  updatedAt: new Date(createdAt).toISOString(),
  stopInbox: 'inbox',
};
const repairAt = (now: number) => ({ now, interruptedAfterMs: 360_000 });

describe('asRead (read repair)', () => {
  it('keeps a turn that may still be streaming in_progress', () => {
    expect(asRead(turn, repairAt(createdAt + 360_000))).toBe(turn);
  });

  it('shows an in_progress turn past the longest stream as interrupted, with nothing left to stop', () => {
    const read = asRead(turn, repairAt(createdAt + 360_001));
    expect(read).toMatchObject({ status: 'interrupted', errorCode: 'interrupted', assistantResponse: '' });
    expect(read).not.toHaveProperty('stopInbox');
  });

  it('leaves every ended turn as stored, however old', () => {
    for (const status of ['completed', 'failed', 'stopped', 'interrupted'] as const) {
      const ended = { ...turn, status };
      expect(asRead(ended, repairAt(createdAt + 86_400_000))).toBe(ended);
    }
  });
});
