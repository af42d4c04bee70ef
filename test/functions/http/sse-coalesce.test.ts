import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/errors';
import { coalesceContent } from '../../../functions/http/sse-coalesce';
import type { TurnEvent } from '../../../use-cases/start-turn';

/** Events at their own pace: each waits `gapMs` before it is produced. */
async function* paced(events: readonly TurnEvent[], gapMs: number): AsyncGenerator<TurnEvent> {
  for (const event of events) {
    await sleep(gapMs);
    yield event;
  }
}

const tokens = (n: number): TurnEvent[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'content' as const, text: `t${i} ` }));

async function collect(
  source: AsyncGenerator<TurnEvent>,
): Promise<{ events: TurnEvent[]; firstAtMs: number }> {
  const started = Date.now();
  const events: TurnEvent[] = [];
  let firstAtMs = Number.NaN;
  for await (const event of source) {
    if (events.length === 0) firstAtMs = Date.now() - started;
    events.push(event);
  }
  return { events, firstAtMs };
}

const textOf = (events: readonly TurnEvent[]) =>
  events.map((event) => (event.type === 'content' ? event.text : '')).join('');

describe('coalesceContent', () => {
  it('sends the first token at once, then fewer frames carrying exactly the same text, then the end', async () => {
    const script: TurnEvent[] = [...tokens(30), { type: 'end', status: 'completed', stored: true }];
    const { events } = await collect(coalesceContent(paced(script, 5), 40));
    const contents = events.filter((event) => event.type === 'content');
    expect(contents[0]).toEqual({ type: 'content', text: 't0 ' });
    expect(contents.length).toBeLessThan(15);
    expect(contents.length).toBeGreaterThan(1);
    expect(textOf(events)).toBe(textOf(script));
    expect(events.at(-1)).toEqual({ type: 'end', status: 'completed', stored: true });
  });

  it('flushes a waiting frame when the model goes quiet, without waiting for the next token', async () => {
    async function* burstThenSilence(): AsyncGenerator<TurnEvent> {
      yield { type: 'content', text: 'a' };
      yield { type: 'content', text: 'b' };
      yield { type: 'content', text: 'c' };
      await sleep(300);
      yield { type: 'end', status: 'completed', stored: true };
    }
    const seen: { event: TurnEvent; atMs: number }[] = [];
    const started = Date.now();
    for await (const event of coalesceContent(burstThenSilence(), 30))
      seen.push({ event, atMs: Date.now() - started });
    expect(seen.map((s) => s.event)).toEqual([
      { type: 'content', text: 'a' },
      { type: 'content', text: 'bc' },
      { type: 'end', status: 'completed', stored: true },
    ]);
    expect(seen[1]?.atMs).toBeLessThan(250);
  });

  it('delivers what was waiting before an error event, and before a failure of the source itself', async () => {
    const failure = new DomainError('upstream_error', 'broke');
    const withErrorEvent: TurnEvent[] = [...tokens(4), { type: 'error', error: failure, stored: true }];
    const { events } = await collect(coalesceContent(paced(withErrorEvent, 1), 1000));
    expect(textOf(events)).toBe(textOf(withErrorEvent));
    expect(events.at(-1)).toMatchObject({ type: 'error' });

    async function* throwing(): AsyncGenerator<TurnEvent> {
      yield* tokens(3);
      throw failure;
    }
    const received: TurnEvent[] = [];
    await expect(async () => {
      for await (const event of coalesceContent(throwing(), 1000)) received.push(event);
    }).rejects.toBe(failure);
    expect(textOf(received)).toBe('t0 t1 t2 ');
  });

  it('passes every chunk through as its own frame at 0 ms', async () => {
    const script = tokens(5);
    const { events } = await collect(coalesceContent(paced(script, 1), 0));
    expect(events).toEqual(script);
  });
});
