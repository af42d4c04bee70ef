import { describe, expect, it } from 'vitest';
import { finishTurnUpdate, startedTurnItem, turnFromItem } from '../../../adapters/dynamodb/chat-items';
import { decodeStoredText, encodeStoredText } from '../../../adapters/dynamodb/stored-text';

const prose =
  'The heartbeat scrapes every server and writes one view per shard. Admission reads a view, decides, ' +
  'and routes the prompt to the least loaded server that is still safe. When the fleet is busy, the free ' +
  'tier is shed first, and it returns only after the load stayed low for the whole cool-down period. ';

describe('stored text', () => {
  it('stores long prose compressed, smaller than its UTF-8 bytes, and reads it back exactly', () => {
    const text = `${prose} Ünïcödé ✓ 日本語 🙂 ${prose}`;
    const stored = encodeStoredText(text);
    expect(stored).toBeInstanceOf(Uint8Array);
    expect((stored as Uint8Array).length).toBeLessThan(Buffer.byteLength(text) / 2);
    expect(decodeStoredText(stored)).toBe(text);
  });

  it('keeps short text, and text that does not shrink, as a plain string', () => {
    expect(encodeStoredText('hello')).toBe('hello');
    const noise = Array.from({ length: 300 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join('');
    const stored = encodeStoredText(noise);
    expect(decodeStoredText(stored)).toBe(noise);
    if (typeof stored !== 'string') expect(stored.length).toBeLessThan(Buffer.byteLength(noise));
  });

  it('reads items written before compression (plain strings) and refuses other types', () => {
    expect(decodeStoredText('plain')).toBe('plain');
    expect(decodeStoredText(42)).toBeUndefined();
  });

  it('turn items carry compressed prompt and answer that read back as the turn', () => {
    const turn = {
      userId: 'u-1',
      id: '01JTURN0000000000000000000',
      conversationId: 'c-1',
      userMessage: prose,
      createdAt: '2026-12-02T00:00:00.000Z',
    };
    const started = startedTurnItem(turn);
    expect(started.user_message).toBeInstanceOf(Uint8Array);
    expect(turnFromItem({ ...started }).userMessage).toBe(prose);

    const update = finishTurnUpdate(
      turn,
      { status: 'completed', assistantResponse: prose.repeat(3), updatedAt: '2026-12-02T00:00:09.000Z' },
      false,
    );
    const answer = update.ExpressionAttributeValues?.[':assistant_response'];
    expect(answer).toBeInstanceOf(Uint8Array);
    const finished = { ...started, status: 'completed', assistant_response: answer };
    expect(turnFromItem(finished).assistantResponse).toBe(prose.repeat(3));
  });
});
