import { describe, expect, it } from 'vitest';
import { MAX_CONVERSATION_TITLE_CHARS } from '../../../contract/http-api';
import { DomainError } from '../../../domain/errors';
import {
  parseConversationListQuery,
  parseConversationPath,
  parseRenameBody,
} from '../../../functions/http/conversation-requests';

const invalid = (work: () => unknown) => {
  let thrown: unknown;
  try {
    work();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(DomainError);
  expect((thrown as DomainError).code).toBe('invalid_request');
};

describe('conversation requests', () => {
  it('read the id from the path, and refuse a malformed one', () => {
    expect(parseConversationPath('/chat/conversations/01J-abc_d')).toBe('01J-abc_d');
    for (const path of [
      '/chat/conversations/',
      '/chat/conversations/a%2Fb',
      '/chat/conversations/a/b',
      `/chat/conversations/${'x'.repeat(129)}`,
      '/chat/conversations/a.b',
    ]) {
      invalid(() => parseConversationPath(path));
    }
  });

  it('take a title with its whitespace collapsed, and refuse an empty, long or missing one', () => {
    expect(parseRenameBody({ title: '  Trip\n plans ' })).toEqual({ title: 'Trip plans' });
    expect(parseRenameBody({ title: 'é'.repeat(MAX_CONVERSATION_TITLE_CHARS) }).title).toHaveLength(
      MAX_CONVERSATION_TITLE_CHARS,
    );
    for (const body of [
      {},
      { title: 7 },
      { title: ' \n ' },
      { title: 'x'.repeat(MAX_CONVERSATION_TITLE_CHARS + 1) },
      ['title'],
      null,
    ]) {
      invalid(() => parseRenameBody(body));
    }
  });

  it('bound the list query: limit 1-100 (default 50), a cursor of sane length', () => {
    expect(parseConversationListQuery({})).toEqual({ limit: 50 });
    expect(parseConversationListQuery({ limit: '100', cursor: 'abc' })).toEqual({
      limit: 100,
      cursor: 'abc',
    });
    for (const query of [
      { limit: '0' },
      { limit: '101' },
      { limit: '-1' },
      { limit: 'ten' },
      { cursor: 'x'.repeat(513) },
    ]) {
      invalid(() => parseConversationListQuery(query));
    }
  });
});
