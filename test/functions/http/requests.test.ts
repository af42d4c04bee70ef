import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/errors';
import {
  parseChatRequest,
  parseHistoryRequest,
  parseStopRequest,
  parseStoreRequest,
} from '../../../functions/http/requests';

const limits = { maxPromptChars: 100 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError ? error.code : 'not-a-domain-error';
  }
  return undefined;
}

describe('parseChatRequest', () => {
  it.each([
    ['a non-object body', 'hello'],
    ['an array body', ['prompt']],
    ['null', null],
    ['a missing prompt', {}],
    ['a numeric prompt', { prompt: 42 }],
    ['an empty prompt', { prompt: '' }],
    ['a blank prompt', { prompt: '   \n ' }],
    ['an over-long prompt', { prompt: 'x'.repeat(101) }],
    ['a non-boolean stream', { prompt: 'hi', stream: 'yes' }],
    ['a malformed conversation id', { prompt: 'hi', conversation_id: '../other-user' }],
    ['a malformed regenerate_of', { prompt: 'hi', conversation_id: 'c1', regenerate_of: 'a b' }],
    ['a numeric edit_of', { prompt: 'hi', conversation_id: 'c1', edit_of: 7 }],
    [
      'both regenerate_of and edit_of',
      { prompt: 'hi', conversation_id: 'c1', regenerate_of: 'm1', edit_of: 'm1' },
    ],
    ['a regeneration without its conversation', { prompt: 'hi', regenerate_of: 'm1' }],
  ])('rejects %s as invalid_request', (_name, body) => {
    expect(codeOf(() => parseChatRequest(body, false, limits))).toBe('invalid_request');
  });

  it('accepts a prompt at exactly the limit', () => {
    expect(parseChatRequest({ prompt: 'x'.repeat(100) }, false, limits).prompt).toHaveLength(100);
  });

  it('turns streaming on from the body or the query string', () => {
    expect(parseChatRequest({ prompt: 'hi' }, false, limits).stream).toBe(false);
    expect(parseChatRequest({ prompt: 'hi', stream: true }, false, limits).stream).toBe(true);
    expect(parseChatRequest({ prompt: 'hi', stream: false }, true, limits).stream).toBe(true);
  });

  it('keeps a valid conversation id', () => {
    expect(parseChatRequest({ prompt: 'hi', conversation_id: 'c_1-A' }, false, limits).conversationId).toBe(
      'c_1-A',
    );
  });
});

describe('parseChatRequest revisions (regenerate_of, edit_of)', () => {
  it('marks a regeneration and an edit of an earlier turn, and nothing when neither is sent', () => {
    const base = { prompt: 'hi', conversation_id: 'c1' };
    expect(parseChatRequest({ ...base, regenerate_of: 'm1' }, false, limits).revises).toEqual({
      kind: 'regeneration',
      of: 'm1',
    });
    expect(parseChatRequest({ ...base, edit_of: 'm2' }, false, limits).revises).toEqual({
      kind: 'edit',
      of: 'm2',
    });
    expect(parseChatRequest({ ...base, edit_of: null }, false, limits)).not.toHaveProperty('revises');
    expect(parseChatRequest(base, false, limits)).not.toHaveProperty('revises');
  });
});

describe('parseStoreRequest', () => {
  const storeLimits = { maxPromptChars: 100, maxAnswerChars: 10 };

  it('requires both texts and bounds the answer', () => {
    expect(codeOf(() => parseStoreRequest({ user_message: 'q' }, storeLimits))).toBe('invalid_request');
    expect(
      codeOf(() => parseStoreRequest({ user_message: 'q', assistant_response: 'x'.repeat(11) }, storeLimits)),
    ).toBe('invalid_request');
  });

  it('parses an ISO timestamp and rejects anything else', () => {
    const parsed = parseStoreRequest(
      { user_message: 'q', assistant_response: 'a', timestamp: '2026-01-02T03:04:05.000Z' },
      storeLimits,
    );
    expect(parsed.timestamp).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(
      codeOf(() =>
        parseStoreRequest({ user_message: 'q', assistant_response: 'a', timestamp: 'soon' }, storeLimits),
      ),
    ).toBe('invalid_request');
    expect(
      codeOf(() =>
        parseStoreRequest({ user_message: 'q', assistant_response: 'a', timestamp: 5 }, storeLimits),
      ),
    ).toBe('invalid_request');
  });
});

describe('parseHistoryRequest', () => {
  it('defaults the limit to 50 and bounds it to 1..100', () => {
    expect(parseHistoryRequest({}).limit).toBe(50);
    expect(parseHistoryRequest({ limit: '100' }).limit).toBe(100);
    for (const limit of ['0', '101', '-1', 'ten', '1.5', '']) {
      expect(codeOf(() => parseHistoryRequest({ limit }))).toBe('invalid_request');
    }
  });
});

describe('parseStopRequest', () => {
  it('takes a message id and refuses anything else as invalid_request', () => {
    expect(parseStopRequest({ message_id: '01J0000000000000000000000A' })).toEqual({
      messageId: '01J0000000000000000000000A',
    });
    for (const body of [null, [], {}, { message_id: 7 }, { message_id: '../x' }, { message_id: '' }]) {
      expect(codeOf(() => parseStopRequest(body))).toBe('invalid_request');
    }
  });
});
