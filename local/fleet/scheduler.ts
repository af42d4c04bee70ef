/**
 * The simulated engine: at most `slots` sequences generate at once and the rest wait FIFO (optionally
 * bounded); each sequence gets its first token `timeToFirstTokenMs` after its slot, then decodes at
 * `tokensPerSecond`. KV cache use follows the running sequences' tokens. Knows nothing about HTTP: a
 * sequence's answer goes to its CompletionOutput.
 */
import { performance } from 'node:perf_hooks';
import type { SimulatedServerMetrics } from './metrics';
import type { CompletionOutput, FinishReason } from './openai-http';
import type { TunableOptions } from './options';

const KV_TOKENS_PER_SLOT = 2048;

export interface Sequence {
  readonly arrivedAt: number;
  readonly promptTokens: number;
  readonly tokens: readonly string[];
  readonly finishReason: FinishReason;
  readonly output: CompletionOutput;
  state: 'waiting' | 'prefill' | 'decoding' | 'done';
  generated: number;
  /** Fractional tokens earned since the last emitted one (decode speed × elapsed time). */
  credit: number;
  lastTickAt: number;
  timer: NodeJS.Timeout | undefined;
  /** Stopped by a stall; resumed when the stall ends. */
  parked: boolean;
}

export function newSequence(
  init: Pick<Sequence, 'promptTokens' | 'tokens' | 'finishReason' | 'output'>,
): Sequence {
  return {
    ...init,
    arrivedAt: performance.now(),
    state: 'waiting',
    generated: 0,
    credit: 0,
    lastTickAt: 0,
    timer: undefined,
    parked: false,
  };
}

export class SlotScheduler {
  private opts: TunableOptions;
  private readonly running = new Set<Sequence>();
  private waitingQueue: Sequence[] = [];
  private stalledFlag = false;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    options: TunableOptions,
    private readonly metrics: SimulatedServerMetrics,
  ) {
    this.opts = options;
  }

  get options(): TunableOptions {
    return { ...this.opts };
  }

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waitingQueue.length;
  }

  get stalled(): boolean {
    return this.stalledFlag;
  }

  /** Applies already validated options; a new decode speed applies to running sequences at once. */
  setOptions(next: TunableOptions): void {
    const previousTps = this.opts.tokensPerSecond;
    this.opts = next;
    if (next.tokensPerSecond !== previousTps) {
      // Decoding sequences switch speed now, not at their next (possibly far) tick.
      const now = performance.now();
      for (const seq of this.running) {
        if (seq.state !== 'decoding' || seq.parked || seq.timer === undefined) continue;
        seq.credit += ((now - seq.lastTickAt) * previousTps) / 1000;
        seq.lastTickAt = now;
        this.schedule(seq, ((1 - seq.credit) * 1000) / next.tokensPerSecond);
      }
    }
    this.pump();
  }

  stall(ms: number | false): void {
    if (ms === false) {
      this.unstall();
      return;
    }
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new Error(`stall() takes a number of milliseconds >= 0 or false, got ${String(ms)}`);
    }
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.stalledFlag = true;
    if (Number.isFinite(ms)) this.stallTimer = setTimeout(() => this.unstall(), ms);
  }

  unstall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (!this.stalledFlag) return;
    this.stalledFlag = false;
    const now = performance.now();
    for (const seq of this.running) {
      if (!seq.parked) continue;
      seq.parked = false;
      seq.lastTickAt = now;
      seq.credit = 0;
      this.schedule(seq, seq.state === 'prefill' ? 0 : 1000 / this.opts.tokensPerSecond);
    }
  }

  kvCacheUsage(): number {
    const capacity = this.opts.kvCapacityTokens ?? this.opts.slots * KV_TOKENS_PER_SLOT;
    let used = 0;
    for (const seq of this.running) used += seq.promptTokens + seq.generated;
    return Math.min(1, used / capacity);
  }

  /** Starts or queues the sequence; false (and the sequence done) when the bounded queue is full. */
  admit(seq: Sequence): boolean {
    if (this.running.size < this.opts.slots && this.waitingQueue.length === 0) {
      this.start(seq);
      return true;
    }
    const { maxQueue } = this.opts;
    if (maxQueue !== null && this.waitingQueue.length >= maxQueue) {
      seq.state = 'done';
      return false;
    }
    this.waitingQueue.push(seq);
    return true;
  }

  /** The client went away: the sequence's slot or queue place is freed at once. */
  abandon(seq: Sequence): void {
    if (seq.state === 'done') return;
    this.metrics.aborted++;
    this.finishSequence(seq);
    this.pump();
  }

  /** Ends every sequence without an answer (a crash); returns how many there were. */
  cancelAll(): number {
    const all = [...this.running, ...this.waitingQueue];
    for (const seq of all) this.finishSequence(seq);
    this.running.clear();
    this.waitingQueue = [];
    return all.length;
  }

  private pump(): void {
    while (this.running.size < this.opts.slots) {
      const next = this.waitingQueue.shift();
      if (!next) break;
      this.start(next);
    }
  }

  private start(seq: Sequence): void {
    seq.state = 'prefill';
    this.running.add(seq);
    this.schedule(seq, this.opts.timeToFirstTokenMs);
  }

  private schedule(seq: Sequence, delayMs: number): void {
    clearTimeout(seq.timer);
    seq.timer = setTimeout(() => this.tick(seq), Math.max(0, delayMs));
  }

  private tick(seq: Sequence): void {
    seq.timer = undefined;
    if (seq.state === 'done') return;
    if (this.stalledFlag) {
      seq.parked = true;
      return;
    }
    const now = performance.now();
    if (seq.state === 'prefill') {
      seq.state = 'decoding';
      this.metrics.promptTokensTotal += seq.promptTokens;
      this.metrics.ttft.observe((now - seq.arrivedAt) / 1000);
      seq.output.begin();
      seq.lastTickAt = now;
      seq.credit = 0;
      this.emit(seq, 1);
    } else {
      seq.credit += ((now - seq.lastTickAt) * this.opts.tokensPerSecond) / 1000;
      seq.lastTickAt = now;
      const due = Math.min(Math.floor(seq.credit), seq.tokens.length - seq.generated);
      seq.credit -= due;
      this.emit(seq, due);
    }
    if (seq.generated >= seq.tokens.length) {
      this.complete(seq);
      return;
    }
    this.schedule(seq, ((1 - seq.credit) * 1000) / this.opts.tokensPerSecond);
  }

  private emit(seq: Sequence, count: number): void {
    for (let i = 0; i < count && seq.generated < seq.tokens.length; i++) {
      const token = seq.tokens[seq.generated] ?? '';
      seq.generated++;
      this.metrics.generationTokensTotal++;
      seq.output.token(token);
    }
  }

  private complete(seq: Sequence): void {
    const usage = {
      prompt_tokens: seq.promptTokens,
      completion_tokens: seq.generated,
      total_tokens: seq.promptTokens + seq.generated,
    };
    seq.output.finish(seq.finishReason, usage, seq.tokens.join(''));
    this.metrics.completed++;
    this.metrics.successByReason[seq.finishReason]++;
    this.metrics.e2e.observe((performance.now() - seq.arrivedAt) / 1000);
    this.finishSequence(seq);
    this.pump();
  }

  /** Marks a sequence done and takes it out of the slots / queue (does not pump). */
  private finishSequence(seq: Sequence): void {
    if (seq.state === 'done') return;
    clearTimeout(seq.timer);
    seq.timer = undefined;
    if (seq.state === 'waiting') {
      const index = this.waitingQueue.indexOf(seq);
      if (index >= 0) this.waitingQueue.splice(index, 1);
    } else {
      this.running.delete(seq);
    }
    seq.state = 'done';
  }
}
