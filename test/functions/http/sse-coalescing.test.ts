import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../../domain/errors';
import type { ActiveTurn, TurnEvent } from '../../../use-cases/start-turn';

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
const { sseFrames } = await import('../../../functions/http/chat-responses');

const FLUSH_MS = 50;
const META = 'event: meta\ndata: {"message_id":"m1","conversation_id":"c1"}\n\n';
const END =
  'event: end\ndata: {"message_id":"m1","status":"completed","stored":true,"finish_reason":"stop"}\n\n' +
  'data: [DONE]\n\n';
const end: TurnEvent = { type: 'end', status: 'completed', stored: true, finishReason: 'stop' };
const content = (text: string): TurnEvent => ({ type: 'content', text });
const frame = (text: string) => `data: ${JSON.stringify({ content: text })}\n\n`;

/** A turn whose events the test pushes one by one, as a model would produce them. */
function pushedTurn() {
  const queue: TurnEvent[] = [];
  let wake: (() => void) | undefined;
  const turn: ActiveTurn = {
    messageId: 'm1',
    conversationId: 'c1',
    async *events() {
      while (true) {
        while (queue.length === 0) await new Promise<void>((resolveWake) => (wake = resolveWake));
        const event = queue.shift() as TurnEvent;
        yield event;
        if (event.type !== 'content') return;
      }
    },
  };
  const push = (...events: TurnEvent[]) => {
    queue.push(...events);
    wake?.();
  };
  return { turn, push };
}

/** The promise's value if it settles without the (fake) clock moving, else 'pending'. */
async function withoutWaiting<T>(promise: Promise<T>): Promise<T | 'pending'> {
  // setImmediate stays real: it runs once every microtask the promise chain needs has run.
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

async function nextFrame(frames: AsyncGenerator<string>): Promise<string | 'pending'> {
  const next = await withoutWaiting(frames.next());
  if (next === 'pending') return next;
  return next.done ? 'done' : next.value;
}

/** The text the client would assemble from every `data: {"content"}` frame. */
function contentOf(frames: readonly string[]): string {
  return frames
    .join('')
    .split('\n\n')
    .filter((part) => part.startsWith('data: {"content"'))
    .map((part) => (JSON.parse(part.slice('data: '.length)) as { content: string }).content)
    .join('');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('sseFrames, coalescing content per flush window', () => {
  it('sends the first token at once and the tokens of one window together when it ends', async () => {
    // Prepare
    const { turn, push } = pushedTurn();
    const frames = sseFrames(turn, Date.now(), { sseFlushMs: FLUSH_MS });
    expect(await nextFrame(frames)).toBe(META);

    // Act
    push(content('Hel'));
    const first = await nextFrame(frames);
    const pending = frames.next();
    push(content('lo'), content(' wor'));
    const beforeWindowEnds = await withoutWaiting(pending);
    await vi.advanceTimersByTimeAsync(FLUSH_MS);
    const merged = await withoutWaiting(pending);

    // Assess
    expect(first).toBe(frame('Hel'));
    expect(beforeWindowEnds).toBe('pending');
    expect(merged).toEqual({ done: false, value: frame('lo wor') });
  });

  it('sends a token at once again once a window passed without any', async () => {
    // Prepare
    const { turn, push } = pushedTurn();
    const frames = sseFrames(turn, Date.now(), { sseFlushMs: FLUSH_MS });
    await nextFrame(frames);
    push(content('a'));
    await nextFrame(frames);

    // Act
    await vi.advanceTimersByTimeAsync(FLUSH_MS);
    push(content('b'));

    // Assess
    expect(await nextFrame(frames)).toBe(frame('b'));
  });

  it('flushes what waits before the end, and [DONE] stays last', async () => {
    // Prepare
    const { turn, push } = pushedTurn();
    const frames = sseFrames(turn, Date.now(), { sseFlushMs: FLUSH_MS });
    await nextFrame(frames);

    // Act
    push(content('a'), content('b'), content('"c"\n'), end);
    const out = [await nextFrame(frames), await nextFrame(frames), await nextFrame(frames)];

    // Assess
    expect(out).toEqual([frame('a'), frame('b"c"\n'), END]);
    expect(await nextFrame(frames)).toBe('done');
  });

  it('concatenates to exactly the tokens, in fewer frames than tokens, one per window at most', async () => {
    // Prepare: 40 tokens 20 ms apart (50 tokens/s) over a 50 ms window.
    const tokens = Array.from({ length: 40 }, (_, i) => (i % 7 === 0 ? ` "q${i}"\n` : `t${i}`));
    const { turn, push } = pushedTurn();
    const frames = sseFrames(turn, Date.now(), { sseFlushMs: FLUSH_MS });
    const out: string[] = [];
    const reading = (async () => {
      for await (const text of frames) out.push(text);
    })();

    // Act
    for (const token of tokens) {
      push(content(token));
      await vi.advanceTimersByTimeAsync(20);
    }
    push(end);
    await vi.runAllTimersAsync();
    await reading;

    // Assess
    const contentFrames = out.filter((text) => text.startsWith('data: {"content"'));
    expect(contentOf(out)).toBe(tokens.join(''));
    expect(out[0]).toBe(META);
    expect(out.at(-1)).toBe(END);
    // 800 ms of tokens: the first at once, then at most one frame per 50 ms window.
    expect(contentFrames.length).toBeLessThanOrEqual(1 + (40 * 20) / FLUSH_MS);
    expect(contentFrames.length).toBeLessThan(tokens.length);
  });

  it('flushes what waits, then ends with event: error and no [DONE] when the turn fails mid-stream', async () => {
    // Prepare
    const { turn, push } = pushedTurn();
    const frames = sseFrames(turn, Date.now(), { sseFlushMs: FLUSH_MS });
    await nextFrame(frames);
    const error = new DomainError('upstream_error', 'The model failed.');

    // Act
    push(content('a'), content('b'), { type: 'error', error, stored: true });
    const out: string[] = [];
    for await (const text of frames) out.push(text);

    // Assess
    expect(out).toEqual([
      frame('a'),
      frame('b'),
      'event: error\ndata: {"error":{"code":"upstream_error","message":"The model failed."}}\n\n',
    ]);
  });

  it('flushes what waits before the error event when the turn throws', async () => {
    // Prepare
    const turn: ActiveTurn = {
      messageId: 'm1',
      conversationId: 'c1',
      async *events() {
        yield content('a');
        yield content('b');
        throw new DomainError('upstream_timeout', 'The AI server stopped sending the answer.');
      },
    };

    // Act
    const out: string[] = [];
    for await (const text of sseFrames(turn, Date.now(), { sseFlushMs: FLUSH_MS })) out.push(text);

    // Assess
    expect(out.slice(1, 3)).toEqual([frame('a'), frame('b')]);
    expect(out[3]).toMatch(/^event: error\ndata: \{"error":\{"code":"upstream_timeout"/);
    expect(out.join('')).not.toContain('[DONE]');
  });

  it('sends one frame per token with a window of 0', async () => {
    // Prepare
    const { turn, push } = pushedTurn();
    const frames = sseFrames(turn, Date.now(), { sseFlushMs: 0 });
    await nextFrame(frames);

    // Act
    push(content('a'), content('b'), end);
    const out = [await nextFrame(frames), await nextFrame(frames), await nextFrame(frames)];

    // Assess
    expect(out).toEqual([frame('a'), frame('b'), END]);
  });
});
