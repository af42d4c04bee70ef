import { describe, expect, it } from 'vitest';
import {
  type Conversation,
  isErased,
  pageOfConversations,
  TITLE_FROM_PROMPT_CHARS,
  titleFromPrompt,
} from '../../domain/conversation';

describe('titleFromPrompt', () => {
  it('keeps a short prompt whole, with its whitespace collapsed', () => {
    expect(titleFromPrompt('  How do\n\ntabs\tand   spaces work?  ')).toBe('How do tabs and spaces work?');
  });

  it('cuts a long prompt at the last word boundary that fits, with an ellipsis and no trailing comma', () => {
    // Prepare
    const prompt =
      'Explain the difference between optimistic and pessimistic locking, with examples in SQL and DynamoDB';

    // Act
    const title = titleFromPrompt(prompt);

    // Assess
    expect(title).toBe('Explain the difference between optimistic and pessimistic…');
    expect(Array.from(title).length).toBeLessThanOrEqual(TITLE_FROM_PROMPT_CHARS);
    expect(prompt.startsWith(title.slice(0, -1))).toBe(true);
  });

  it('keeps a word that ends exactly where the title must end', () => {
    const words = 'Plan a four-day trip to Lisbon in spring for two people who like food';

    expect(titleFromPrompt(words)).toBe('Plan a four-day trip to Lisbon in spring for two people who…');
  });

  it('cuts inside a word only when no boundary leaves a useful title', () => {
    const title = titleFromPrompt(`see ${'x'.repeat(100)}`);

    expect(title).toBe(`see ${'x'.repeat(TITLE_FROM_PROMPT_CHARS - 5)}…`);
    expect(Array.from(title)).toHaveLength(TITLE_FROM_PROMPT_CHARS);
  });

  it('never splits an emoji (counts code points), and names an empty prompt', () => {
    const title = titleFromPrompt('😀'.repeat(80));

    expect(Array.from(title)).toHaveLength(TITLE_FROM_PROMPT_CHARS);
    expect(title.endsWith('😀…')).toBe(true);
    expect(titleFromPrompt(' \n\t ')).toBe('New conversation');
  });
});

const conversation = (id: string, updatedAt: string): Conversation => ({
  id,
  title: id,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt,
  turns: 1,
});

describe('pageOfConversations', () => {
  const all = [
    conversation('a', '2026-01-01T00:00:01.000Z'),
    conversation('c', '2026-01-01T00:00:03.000Z'),
    conversation('b', '2026-01-01T00:00:03.000Z'),
    conversation('d', '2026-01-01T00:00:02.000Z'),
  ];

  it('orders by activity, newest first, ties by id, and pages from the last position', () => {
    // Act
    const first = pageOfConversations(all, 2, undefined);
    const second = pageOfConversations(all, 2, first.last);

    // Assess
    expect(first.conversations.map((c) => c.id)).toEqual(['c', 'b']);
    expect(first.last).toEqual({ updatedAt: '2026-01-01T00:00:03.000Z', id: 'b' });
    expect(second.conversations.map((c) => c.id)).toEqual(['d', 'a']);
    expect(second.last).toBeUndefined();
  });
});

describe('isErased', () => {
  it('hides what was created before the mark, and nothing without one', () => {
    const erasure = { erasedBefore: '2026-01-01T00:00:02.000Z', status: 'erasing' } as const;

    expect(isErased('2026-01-01T00:00:01.000Z', erasure)).toBe(true);
    expect(isErased('2026-01-01T00:00:02.000Z', erasure)).toBe(false);
    expect(isErased('2026-01-01T00:00:01.000Z', undefined)).toBe(false);
  });
});
