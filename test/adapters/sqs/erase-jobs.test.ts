import { describe, expect, it } from 'vitest';
import { encodeEraseJob, parseEraseJob } from '../../../adapters/sqs/erase-jobs';
import { encodePendingWrite } from '../../../adapters/sqs/pending-write-message';

describe('erase job messages', () => {
  it('round-trip both scopes, and leave parked turn writes to their own parser', () => {
    const history = { userId: 'u1', before: '2026-01-01T00:00:00.000Z' };
    const conversation = { ...history, conversationId: 'c1' };
    const parked = encodePendingWrite({
      turn: { userId: 'u1', id: 't1', conversationId: 'c1', userMessage: 'q', createdAt: history.before },
    });

    expect(parseEraseJob(encodeEraseJob(history))).toEqual(history);
    expect(parseEraseJob(encodeEraseJob(conversation))).toEqual(conversation);
    expect(parseEraseJob(parked)).toBeUndefined();
    expect(() => parseEraseJob('{"erase":{"userId":"u1","before":"soon"}}')).toThrow('malformed');
  });
});
