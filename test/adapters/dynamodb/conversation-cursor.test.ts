import { describe, expect, it } from 'vitest';
import {
  decodeConversationCursor,
  encodeConversationCursor,
} from '../../../adapters/dynamodb/conversation-cursor';
import { DomainError } from '../../../domain/errors';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('conversation cursors', () => {
  it('round-trip a position', () => {
    const position = { updatedAt: '2026-03-01T10:00:00.123Z', id: 'conv_1-a' };

    expect(decodeConversationCursor(encodeConversationCursor(position))).toEqual(position);
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['an array', encode(['2026-03-01T10:00:00.000Z', 'x'])],
    ['an extra field', encode({ u: '2026-03-01T10:00:00.000Z', i: 'x', pk: 'someone' })],
    ['a time that is not an instant', encode({ u: 'yesterday', i: 'x' })],
    ['an id with a slash', encode({ u: '2026-03-01T10:00:00.000Z', i: 'a/b' })],
    ['too long', 'A'.repeat(600)],
    ['empty', ''],
  ])('refuse %s as invalid_request', (_name, cursor) => {
    let thrown: unknown;
    try {
      decodeConversationCursor(cursor);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DomainError);
    expect((thrown as DomainError).code).toBe('invalid_request');
  });
});
