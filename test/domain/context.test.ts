import { describe, expect, it } from 'vitest';
import { gptTokenizer } from '../../adapters/inference/gpt-tokenizer';
import type { TurnStatus } from '../../contract/turn';
import { buildContext } from '../../domain/context';
import type { Turn } from '../../domain/turn';

function turn(n: number, status: TurnStatus = 'completed'): Turn {
  return {
    userId: 'u',
    id: `t${n}`,
    conversationId: 'c',
    userMessage: `question number ${n}`,
    assistantResponse: `answer number ${n} with a few more words in it`,
    status,
    createdAt: new Date(n * 1000).toISOString(),
    updatedAt: new Date(n * 1000).toISOString(),
  };
}

describe('buildContext', () => {
  const newestFirst = [turn(3), turn(2), turn(1)];

  it('sends the new prompt alone when the conversation is new', () => {
    const { messages } = buildContext([], 'hello', 1000, gptTokenizer);
    expect(messages).toEqual([{ role: 'user', content: 'hello' }]);
  });

  it('puts earlier turns back in chronological order before the prompt', () => {
    const { messages, contextTurns } = buildContext(newestFirst, 'next', 10_000, gptTokenizer);
    expect(contextTurns).toBe(3);
    expect(messages.map((m) => m.content)).toEqual([
      'question number 1',
      'answer number 1 with a few more words in it',
      'question number 2',
      'answer number 2 with a few more words in it',
      'question number 3',
      'answer number 3 with a few more words in it',
      'next',
    ]);
  });

  it('keeps the newest turns that fit the token budget, counted with the tokenizer', () => {
    const perTurn = buildContext([turn(3)], 'p', 10_000, gptTokenizer).contextTokens;
    const { contextTurns, contextTokens } = buildContext(newestFirst, 'next', perTurn * 2 + 1, gptTokenizer);
    expect(contextTurns).toBe(2);
    expect(contextTokens).toBeLessThanOrEqual(perTurn * 2 + 1);
    const { messages } = buildContext(newestFirst, 'next', perTurn * 2 + 1, gptTokenizer);
    expect(messages[0]?.content).toBe('question number 2');
  });

  it('never sends failed, stopped, interrupted or unfinished turns as context', () => {
    const mixed = [
      turn(4, 'failed'),
      turn(3, 'stopped'),
      turn(2, 'in_progress'),
      turn(1, 'interrupted'),
      turn(0),
    ];
    const { messages } = buildContext(mixed, 'next', 10_000, gptTokenizer);
    expect(messages.map((m) => m.content)).toEqual([
      'question number 0',
      'answer number 0 with a few more words in it',
      'next',
    ]);
  });
});
