import { describe, expect, it } from 'vitest';
import { parseConversations, parseHistory } from '../../../web/src/api';
import { dateGroup, relativeTime, titleFromPrompt } from '../../../web/src/format';

describe('parseHistory', () => {
  it('keeps what a turn revises (regenerate_of, edit_of) and nothing else unknown', () => {
    const base = { conversation_id: 'c1', user_message: 'q', assistant_response: 'a', timestamp: 't' };
    const page = parseHistory({
      chats: [
        { ...base, id: 'm2', regenerate_of: 'm1', extra: 'x' },
        { ...base, id: 'm3', edit_of: 'm1' },
        { ...base, id: 'm4', regenerate_of: 7 },
      ],
    });
    expect(page.chats.map((chat) => [chat.regenerate_of, chat.edit_of])).toEqual([
      ['m1', undefined],
      [undefined, 'm1'],
      [undefined, undefined],
    ]);
    expect(page.chats[0]).not.toHaveProperty('extra');
  });
});

describe('parseConversations', () => {
  it('reads entries and the cursor, skipping malformed entries and defaulting missing fields', () => {
    const page = parseConversations({
      conversations: [
        {
          id: 'c1',
          title: 'One',
          created_at: '2026-01-01T00:00:00Z',
          updated_at: '2026-01-02T00:00:00Z',
          turns: 2,
        },
        { id: 'c2', created_at: '2026-01-01T00:00:00Z' },
        { title: 'no id' },
        'junk',
      ],
      next_cursor: 'abc',
    });
    expect(page).toEqual({
      conversations: [
        {
          id: 'c1',
          title: 'One',
          created_at: '2026-01-01T00:00:00Z',
          updated_at: '2026-01-02T00:00:00Z',
          turns: 2,
        },
        {
          id: 'c2',
          title: '',
          created_at: '2026-01-01T00:00:00Z',
          updated_at: '2026-01-01T00:00:00Z',
          turns: 0,
        },
      ],
      next_cursor: 'abc',
    });
    expect(parseConversations({ conversations: [], next_cursor: '' })).toEqual({ conversations: [] });
    expect(() => parseConversations({ chats: [] })).toThrow();
  });
});

describe('sidebar formats', () => {
  const now = Date.parse('2026-06-15T12:00:00');

  it('says how long ago, briefly', () => {
    expect(relativeTime('2026-06-15T11:59:30', now)).toBe('now');
    expect(relativeTime('2026-06-15T11:55:00', now)).toBe('5 min');
    expect(relativeTime('2026-06-15T09:00:00', now)).toBe('3 h');
    expect(relativeTime('2026-06-13T12:00:00', now)).toBe('2 d');
    expect(relativeTime('not a date', now)).toBe('');
  });

  it('groups by day, in local time', () => {
    expect(dateGroup('2026-06-15T00:30:00', now)).toBe('Today');
    expect(dateGroup('2026-06-14T23:00:00', now)).toBe('Yesterday');
    expect(dateGroup('2026-06-10T12:00:00', now)).toBe('Previous 7 days');
    expect(dateGroup('2026-05-20T12:00:00', now)).toBe('Previous 30 days');
    expect(dateGroup('2025-01-01T12:00:00', now)).toBe('Older');
  });

  it("titles a new chat as the server does (the domain's titleFromPrompt)", () => {
    expect(titleFromPrompt('  Hello\n  there  ')).toBe('Hello there');
    expect(titleFromPrompt('word '.repeat(30)).endsWith('…')).toBe(true);
  });
});
