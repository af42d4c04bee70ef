/**
 * Virtual time for the simulation: a binary-heap event queue and a Clock whose now() only moves when the
 * loop advances it. The real code under test is async (it awaits the DynamoDB client and the probe); its
 * promises are resolved by scheduled events, and after every instant's events the loop lets the microtask
 * queue run dry before time moves on, so each continuation runs at the virtual instant it belongs to.
 * No real timer is ever used on the simulated path.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../domain/ports';

export interface ScheduledEvent {
  readonly time: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

/** Min-heap on (time, seq): equal times run in scheduling order, so a run is deterministic. */
export class EventHeap {
  private readonly items: ScheduledEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  peekTime(): number {
    return this.items[0]?.time ?? Number.POSITIVE_INFINITY;
  }

  push(event: ScheduledEvent): void {
    const items = this.items;
    let index = items.length;
    items.push(event);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex] as ScheduledEvent;
      if (before(parent, event)) break;
      items[index] = parent;
      index = parentIndex;
    }
    items[index] = event;
  }

  pop(): ScheduledEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const length = items.length;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      let childEvent = items[left] as ScheduledEvent;
      if (right < length) {
        const rightEvent = items[right] as ScheduledEvent;
        if (before(rightEvent, childEvent)) {
          child = right;
          childEvent = rightEvent;
        }
      }
      if (before(last, childEvent)) break;
      items[index] = childEvent;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

const before = (a: ScheduledEvent, b: ScheduledEvent) =>
  a.time < b.time || (a.time === b.time && a.seq < b.seq);

/** How the loop waits for the microtask queue to run dry between instants. */
export type DrainStrategy = 'set-immediate' | 'microtask-rounds';

export interface VirtualTimeOptions {
  /** Epoch ms of virtual time zero (the real code stores epoch ms). */
  readonly epochMs?: number;
  readonly drain?: DrainStrategy;
  /** microtask-rounds: rounds of `await Promise.resolve()` per instant (must exceed the deepest chain). */
  readonly microtaskRounds?: number;
  /** >0: event times are rounded up to this grain, so more events share an instant (coarser, faster). */
  readonly quantumMs?: number;
}

export const DEFAULT_EPOCH_MS = Date.UTC(2027, 0, 4, 9, 0, 0);

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualTime implements Clock {
  private readonly heap = new EventHeap();
  private current: number;
  private seq = 0;
  private readonly drainStrategy: DrainStrategy;
  private readonly microtaskRounds: number;
  private readonly quantumMs: number;
  /** Instants processed and events run, for the report. */
  instants = 0;
  eventsRun = 0;

  constructor(options: VirtualTimeOptions = {}) {
    this.current = options.epochMs ?? DEFAULT_EPOCH_MS;
    this.drainStrategy = options.drain ?? 'set-immediate';
    this.microtaskRounds = options.microtaskRounds ?? 64;
    this.quantumMs = options.quantumMs ?? 0;
  }

  readonly now = (): number => this.current;

  /** Events still queued. */
  get pending(): number {
    return this.heap.size;
  }

  /** Runs `fn` at virtual time `time` (never in the past: a past time means now). */
  at(time: number, fn: () => void): ScheduledEvent {
    const q = this.quantumMs;
    const due = q > 0 ? Math.ceil(time / q) * q : time;
    const event: ScheduledEvent = { time: Math.max(due, this.current), seq: this.seq++, fn };
    this.heap.push(event);
    return event;
  }

  after(delayMs: number, fn: () => void): ScheduledEvent {
    return this.at(this.current + delayMs, fn);
  }

  /** A scheduled event that has not run yet will not run. */
  cancel(event: ScheduledEvent): void {
    event.fn = undefined;
  }

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      this.after(Math.max(0, ms), resolve);
    });

  sleepUntil(time: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.at(time, resolve);
    });
  }

  /** A promise settled at now + delayMs with what `produce` returns (or throws) then. */
  later<T>(delayMs: number, produce: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.after(delayMs, () => {
        try {
          resolve(produce());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** An AbortSignal aborted (with a TimeoutError) at now + ms in virtual time; dispose() cancels it. */
  timeoutSignal(ms: number): { readonly signal: AbortSignal; dispose(): void } {
    const controller = new AbortController();
    // One tick hands its signal to many parallel calls (one per registry bucket, each SDK request adds a
    // listener): without this Node warns past 10 listeners. The production loop has the same pattern.
    setMaxListeners(256, controller.signal);
    const event = this.after(ms, () =>
      controller.abort(new DOMException('The operation timed out (virtual time).', 'TimeoutError')),
    );
    return { signal: controller.signal, dispose: () => this.cancel(event) };
  }

  /**
   * Runs every event due up to `until` (inclusive), instant by instant, letting the microtasks each
   * instant started finish before the next. Ends with now = until.
   */
  async run(until: number): Promise<void> {
    const heap = this.heap;
    await this.drain();
    while (heap.peekTime() <= until) {
      const time = heap.peekTime();
      this.current = time;
      this.instants++;
      while (heap.peekTime() === time) {
        const event = heap.pop();
        const fn = event?.fn;
        if (fn === undefined) continue;
        this.eventsRun++;
        fn();
      }
      await this.drain();
    }
    if (until > this.current) this.current = until;
  }

  private async drain(): Promise<void> {
    if (this.drainStrategy === 'set-immediate') return immediate();
    for (let round = 0; round < this.microtaskRounds; round++) await Promise.resolve();
  }
}
