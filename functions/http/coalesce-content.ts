/**
 * A turn's events with its content chunks merged per flush window, so a stream writes one SSE frame per
 * window instead of one per token (each frame is a socket write, and on Lambda a response-stream chunk).
 * A chunk that arrives while no window is open leaves at once — the first token is never delayed — and
 * opens a window of `flushMs`; chunks arriving while it is open wait for its end and leave together as one
 * chunk, which opens the next window. Any other event (end, error) first flushes what waits, so the text
 * is exactly the tokens, in order. `flushMs` 0: every chunk leaves as it came.
 */
import type { TurnEvent } from '../../use-cases/start-turn';

const CLOSED = Symbol('window closed');

/** One flush window: open for `ms`, then closed (and `closed` resolves). */
class FlushWindow {
  isOpen = false;
  closed: Promise<typeof CLOSED> = Promise.resolve(CLOSED);
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ms: number) {}

  open(): void {
    this.isOpen = true;
    this.closed = new Promise((resolveClosed) => {
      this.#timer = setTimeout(() => {
        this.isOpen = false;
        resolveClosed(CLOSED);
      }, this.ms);
    });
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.isOpen = false;
  }
}

/**
 * Pulls `events` by hand (never return()s it) and yields them with content merged per window. An error
 * thrown by `events` is re-thrown after the content that waited has been yielded.
 */
export async function* coalesceContent(
  events: AsyncIterator<TurnEvent>,
  flushMs: number,
): AsyncGenerator<TurnEvent> {
  if (flushMs <= 0) {
    for (let next = await events.next(); !next.done; next = await events.next()) yield next.value;
    return;
  }
  const window = new FlushWindow(flushMs);
  let waiting = '';
  // A pull still in flight when the window closed: the next round awaits the same one.
  let pulling: Promise<IteratorResult<TurnEvent>> | undefined;
  try {
    while (true) {
      pulling ??= events.next();
      let result: IteratorResult<TurnEvent> | typeof CLOSED;
      try {
        result = waiting === '' ? await pulling : await Promise.race([pulling, window.closed]);
      } catch (error) {
        if (waiting !== '') yield { type: 'content', text: waiting };
        throw error;
      }
      if (result === CLOSED) {
        const text = waiting;
        waiting = '';
        // The window runs from the moment a frame is handed on, not from when the reader comes back.
        window.open();
        yield { type: 'content', text };
        continue;
      }
      pulling = undefined;
      if (result.done) {
        if (waiting !== '') yield { type: 'content', text: waiting };
        return;
      }
      const event = result.value;
      if (event.type !== 'content') {
        if (waiting !== '') yield { type: 'content', text: waiting };
        waiting = '';
        yield event;
      } else if (window.isOpen) {
        waiting += event.text;
      } else {
        window.open();
        yield event;
      }
    }
  } finally {
    window.cancel();
  }
}
