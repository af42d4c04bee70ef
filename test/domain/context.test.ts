import { describe, expect, it } from 'vitest';
import type { TurnStatus } from '../../contract/turn';
import {
  buildContext,
  contextCost,
  estimateTokens,
  messageTokensOf,
  utf8Length,
  withoutRevisedTurns,
} from '../../domain/context';
import type { ChatMessage, Turn } from '../../domain/turn';

function turn(n: number, extra: Partial<Turn> = {}, status: TurnStatus = 'completed'): Turn {
  return {
    userId: 'u',
    id: `t${n}`,
    conversationId: 'c',
    userMessage: `question number ${n}`,
    assistantResponse: `answer number ${n} with a few more words in it`,
    status,
    createdAt: new Date(n * 1000).toISOString(),
    updatedAt: new Date(n * 1000).toISOString(),
    usage: { promptTokens: 100, completionTokens: 20 },
    messageTokens: 10,
    ...extra,
  };
}

describe('buildContext', () => {
  const newestFirst = [turn(3), turn(2), turn(1)];

  it('sends the new prompt alone when the conversation is new', () => {
    expect(buildContext([], 'hello', 1000)).toEqual({
      messages: [{ role: 'user', content: 'hello' }],
      contextTurns: 0,
      contextTokens: 0,
      estimatedTurns: 0,
      tokensBeforePrompt: 0,
    });
  });

  it('puts earlier turns back in chronological order before the prompt', () => {
    const { messages, contextTurns } = buildContext(newestFirst, 'next', 10_000);
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

  it("counts a turn with the server's counts when it has them, whatever its text's length", () => {
    const long = turn(1, { userMessage: 'x'.repeat(5000), assistantResponse: '字'.repeat(5000) });
    expect(buildContext([long], 'next', 10_000)).toMatchObject({
      contextTurns: 1,
      contextTokens: 10 + 20,
      estimatedTurns: 0,
    });
  });

  it('estimates only the count a turn lacks', () => {
    const noMessageCount = turn(1, { messageTokens: undefined });
    expect(contextCost(noMessageCount)).toEqual({
      tokens: estimateTokens(noMessageCount.userMessage) + 20,
      exact: false,
    });
    const noUsage = turn(2, { usage: undefined });
    expect(contextCost(noUsage)).toEqual({
      tokens: 10 + estimateTokens(noUsage.assistantResponse),
      exact: false,
    });
    // A stored turn (/chat/store) has neither; a server's 0 means it did not count.
    const stored = turn(3, { usage: undefined, messageTokens: undefined });
    const zeros = turn(4, { usage: { promptTokens: 0, completionTokens: 0 }, messageTokens: 0 });
    for (const uncounted of [stored, zeros]) {
      expect(contextCost(uncounted).tokens).toBe(
        estimateTokens(uncounted.userMessage) + estimateTokens(uncounted.assistantResponse),
      );
    }
    const context = buildContext([turn(5), noMessageCount], 'next', 10_000);
    expect(context).toMatchObject({ contextTurns: 2, estimatedTurns: 1 });
    expect(context.contextTokens).toBe(30 + contextCost(noMessageCount).tokens);
  });

  it('keeps the newest turns that fit the budget, and stops at the first that does not', () => {
    const big = turn(2, { messageTokens: 500 });
    const turns = [turn(4), turn(3), big, turn(1)];
    expect(buildContext(turns, 'next', 60)).toMatchObject({ contextTurns: 2, contextTokens: 60 });
    expect(buildContext(turns, 'next', 59)).toMatchObject({ contextTurns: 1, contextTokens: 30 });
    // turn(1) would fit beside the two newest, but skipping `big` would send a conversation with a hole.
    const { messages, contextTokens } = buildContext(turns, 'next', 100);
    expect(contextTokens).toBe(60);
    expect(messages[0]?.content).toBe('question number 3');
  });

  it('never sends failed, stopped, interrupted or unfinished turns as context', () => {
    const mixed = [
      turn(4, {}, 'failed'),
      turn(3, {}, 'stopped'),
      turn(2, {}, 'in_progress'),
      turn(1, {}, 'interrupted'),
      turn(0),
    ];
    const { messages } = buildContext(mixed, 'next', 10_000);
    expect(messages.map((m) => m.content)).toEqual([
      'question number 0',
      'answer number 0 with a few more words in it',
      'next',
    ]);
  });
});

describe('tokensBeforePrompt and messageTokensOf', () => {
  // t3's prompt held t1 and t2: its usage counted them, t3 and the template.
  const t1 = turn(1, { contextFrom: 't1' });
  const t2 = turn(2, { contextFrom: 't1' });
  const t3 = turn(3, { usage: { promptTokens: 70, completionTokens: 20 }, contextFrom: 't1' });

  it("is 0 with no earlier turn sent, so a conversation's first message is its whole prompt count", () => {
    const context = buildContext([], 'hello', 1000);
    expect(context.tokensBeforePrompt).toBe(0);
    expect(messageTokensOf(context, { promptTokens: 9, completionTokens: 3 }, 'hello')).toBe(9);
  });

  it("is what the server counted for the newest turn's prompt and answer when the window only grew", () => {
    const context = buildContext([t3, t2, t1], 'next', 10_000);
    expect(context).toMatchObject({ contextTurns: 3, oldestTurnId: 't1', tokensBeforePrompt: 90 });
    expect(messageTokensOf(context, { promptTokens: 102, completionTokens: 5 }, 'next')).toBe(12);
  });

  it('takes back the turns of that prompt which the budget left out, at their counts', () => {
    const context = buildContext([t3, t2, t1], 'next', 60);
    expect(context).toMatchObject({ contextTurns: 2, oldestTurnId: 't2' });
    expect(context.tokensBeforePrompt).toBe(90 - contextCost(t1).tokens);
  });

  it('is unknown when the newest turn has no usage, no contextFrom, or that turn was not read', () => {
    for (const newest of [
      turn(3, { usage: undefined, contextFrom: 't1' }),
      turn(3, { contextFrom: undefined }),
      turn(3, { contextFrom: 't0' }),
    ]) {
      expect(buildContext([newest, t2, t1], 'next', 10_000).tokensBeforePrompt).toBeUndefined();
    }
  });

  it('is unknown without a usable prompt count, and no better than the estimate above it', () => {
    const known = { tokensBeforePrompt: 100 };
    expect(messageTokensOf({}, { promptTokens: 120, completionTokens: 7 }, 'q')).toBeUndefined();
    expect(messageTokensOf(known, undefined, 'q')).toBeUndefined();
    expect(messageTokensOf(known, { promptTokens: 100, completionTokens: 7 }, 'q')).toBeUndefined();
    expect(messageTokensOf(known, { promptTokens: 0, completionTokens: 7 }, 'q')).toBeUndefined();
    const cap = estimateTokens('q');
    expect(messageTokensOf(known, { promptTokens: 100 + cap - 1, completionTokens: 7 }, 'q')).toBe(cap - 1);
    expect(messageTokensOf(known, { promptTokens: 100 + cap, completionTokens: 7 }, 'q')).toBeUndefined();
  });
});

/**
 * A server whose chat template is a fixed prefix, 4 tokens of framing a message and a 3-token
 * assistant header, counting one token a word; its completion count includes the end-of-turn token.
 * So an answer costs, as history, exactly what its completion cost: header + words + end.
 */
const PREFIX = 5;
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
const historyCost = (messages: readonly ChatMessage[]) =>
  messages.reduce((sum, message) => sum + 4 + words(message.content), 0);
const promptTokens = (messages: readonly ChatMessage[]) => PREFIX + historyCost(messages) + 3;

type Kind = 'counted' | 'stored' | 'legacy';

/**
 * A conversation through buildContext and that server, as stream-turn.ts stores it; `kinds` marks turns
 * from /chat/store (no usage) and from before these counts (usage only). Per prompt sent: what the
 * context was counted, what the server holds for it, and what estimating its messages would over-count.
 */
function converse(turns: number, budget: number, kinds: (n: number) => Kind = () => 'counted') {
  const history: Turn[] = [];
  const sent: {
    n: number;
    contextTokens: number;
    realTokens: number;
    contextTurns: number;
    estimatesOver: number;
    counted: boolean;
  }[] = [];
  for (let n = 1; n <= turns; n++) {
    const question = 'word '.repeat(3 + ((n * 7) % 11));
    const answer = 'reply '.repeat(5 + ((n * 13) % 17));
    const texts = { userMessage: question, assistantResponse: answer };
    const kind = kinds(n);
    if (kind === 'stored') {
      history.unshift(turn(n, { ...texts, usage: undefined, messageTokens: undefined }));
      continue;
    }
    const context = buildContext(history, question, budget);
    const held = context.messages.slice(0, -1);
    const userMessages = held.filter((message) => message.role === 'user');
    const usage = { promptTokens: promptTokens(context.messages), completionTokens: words(answer) + 1 };
    const messageTokens = messageTokensOf(context, usage, question);
    sent.push({
      n,
      ...context,
      realTokens: historyCost(held),
      estimatesOver: userMessages.reduce(
        (sum, m) => sum + estimateTokens(m.content) - (4 + words(m.content) + 3),
        0,
      ),
      counted: messageTokens !== undefined,
    });
    const counts =
      kind === 'legacy'
        ? { messageTokens: undefined }
        : { messageTokens, contextFrom: context.oldestTurnId ?? `t${n}` };
    history.unshift(turn(n, { ...texts, usage, ...counts }));
  }
  return sent;
}

describe('counting a conversation from its own usage', () => {
  it.each([120, 400])(
    "counts every context exactly, up to the template's fixed prefix, as the window slides (budget %i)",
    (budget) => {
      const sent = converse(60, budget);
      for (const { contextTokens, realTokens } of sent) {
        expect(contextTokens).toBeLessThanOrEqual(budget);
        expect(contextTokens).toBeGreaterThanOrEqual(realTokens);
        expect(contextTokens).toBeLessThanOrEqual(realTokens + PREFIX);
      }
      // The window did slide: later turns dropped their oldest context.
      const late = sent.filter((s) => s.n > 30);
      expect(Math.min(...late.map((s) => s.contextTurns))).toBeGreaterThanOrEqual(budget === 120 ? 1 : 4);
      expect(late.every((s) => s.counted)).toBe(true);
    },
  );

  it.each([
    ['a stored turn', 120, (n: number): Kind => (n === 4 ? 'stored' : 'counted')],
    ['a stored turn', 400, (n: number): Kind => (n === 4 ? 'stored' : 'counted')],
    ['turns from before these counts', 120, (n: number): Kind => (n <= 6 ? 'legacy' : 'counted')],
    ['turns from before these counts', 400, (n: number): Kind => (n <= 6 ? 'legacy' : 'counted')],
  ])('never under-counts after %s (budget %i), and counts new messages again', (_, budget, kinds) => {
    const sent = converse(60, budget, kinds);
    for (const { contextTokens, realTokens } of sent) {
      expect(contextTokens).toBeGreaterThanOrEqual(realTokens);
      expect(contextTokens).toBeLessThanOrEqual(budget);
    }
    // The estimates' error is carried along, not spread: most messages get a count, and the context is
    // over-counted by less than estimating its messages would.
    const late = sent.filter((s) => s.n > 30);
    expect(late.filter((s) => s.counted).length).toBeGreaterThan(late.length / 2);
    for (const { contextTokens, realTokens, estimatesOver } of late) {
      expect(contextTokens - realTokens).toBeLessThan(estimatesOver);
    }
  });
});

describe('estimateTokens', () => {
  const samples = {
    ascii: 'The quick brown fox jumps over the lazy dog. {"json": [1, 2, 3]}',
    whitespace: ' \n\t   \n',
    accents: 'Ça coûte très cher, déjà.',
    cjk: '你好，世界。日本語のテキスト、한국어 텍스트',
    emoji: '👍🎉🚀',
    zwjFamily: '👨‍👩‍👧‍👦',
    flags: '🇫🇷🇯🇵',
    combining: 'e\u0301a\u0308o\u0302',
    loneSurrogate: 'a\ud800b',
    empty: '',
  };

  it.each(Object.entries(samples))('never counts fewer tokens than UTF-8 bytes (%s)', (_, text) => {
    // One token per byte bounds every byte-level BPE, +1 the leading space SentencePiece adds.
    expect(estimateTokens(text)).toBeGreaterThanOrEqual(Buffer.byteLength(text, 'utf8') + 1);
  });

  it('counts bytes, not UTF-16 code units: CJK is 3 bytes a character, emoji 4', () => {
    expect(utf8Length('你好')).toBe(6);
    expect(utf8Length('👍')).toBe(4);
    expect(utf8Length(samples.zwjFamily)).toBe(25);
    expect(estimateTokens('你好') - estimateTokens('ab')).toBe(4);
  });

  it('agrees with the UTF-8 encoder on random text of every plane', () => {
    let seed = 42;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const ranges = [
      [0x20, 0x7e],
      [0xa0, 0x7ff],
      [0x800, 0xd7ff],
      [0xd800, 0xdfff],
      [0xe000, 0xffff],
      [0x10000, 0x10ffff],
    ] as const;
    for (let i = 0; i < 200; i++) {
      let text = '';
      for (let j = 0; j < 40; j++) {
        const [low, high] = ranges[Math.floor(random() * ranges.length)] ?? [0x20, 0x7e];
        text += String.fromCodePoint(low + Math.floor(random() * (high - low + 1)));
      }
      expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});

describe('withoutRevisedTurns', () => {
  const ids = (turns: readonly Turn[]) => turns.map((kept) => kept.id);
  // Newest first, as the conversation's recent ids name them.
  const earlier = [turn(3), turn(2), turn(1)];

  it('keeps every turn of a plain turn', () => {
    expect(ids(withoutRevisedTurns(earlier, undefined))).toEqual(['t3', 't2', 't1']);
  });

  it('leaves out the answer a regeneration replaces', () => {
    expect(ids(withoutRevisedTurns(earlier, { kind: 'regeneration', of: 't3' }))).toEqual(['t2', 't1']);
  });

  it('leaves out an edited turn and every turn after it', () => {
    expect(ids(withoutRevisedTurns(earlier, { kind: 'edit', of: 't2' }))).toEqual(['t1']);
  });

  it('leaves out a turn a later turn revised, so the next prompt holds the regeneration only', () => {
    const regenerated = [turn(4, { revises: { kind: 'regeneration', of: 't3' } }), ...earlier];
    expect(ids(withoutRevisedTurns(regenerated, undefined))).toEqual(['t4', 't2', 't1']);
  });

  it('regenerating a regeneration leaves out both answers it replaced', () => {
    const regenerated = [turn(4, { revises: { kind: 'regeneration', of: 't3' } }), ...earlier];
    expect(ids(withoutRevisedTurns(regenerated, { kind: 'regeneration', of: 't4' }))).toEqual(['t2', 't1']);
  });

  it('a revision of a turn older than those read only leaves that turn out', () => {
    expect(ids(withoutRevisedTurns(earlier, { kind: 'edit', of: 't0' }))).toEqual(['t3', 't2', 't1']);
  });
});
