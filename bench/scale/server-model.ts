/**
 * A vLLM-like inference server in virtual time: `slots` batch slots (`--max-num-seqs`), a FIFO waiting
 * queue, and a bound: a request is refused (503) when running + waiting ≥ capacity (slots plus a short
 * queue, the capacity it is registered with). Every running sequence decodes at a fixed rate (the batch
 * does not slow it down: that is what --max-num-seqs is chosen for); prefill takes a base time plus a
 * per-prompt-token time. KV-cache use is Σ(prompt + generated tokens) of the running sequences over a KV
 * capacity. A waiting sequence starts only when a slot is free and, by `kvAdmission`:
 * - `reserve` (default): its prompt plus the request's max_tokens fits, with every running sequence's own
 *   reservation, in the safe share of the cache — TGI's token budget (`--max-batch-total-tokens`), the bound
 *   the README asks a registered server to enforce, so KV can never pass the safe threshold;
 * - `overcommit`: only its prompt has to fit in the cache now (vLLM's scheduler); answers then grow into
 *   it. Preemption when they overflow is not modelled (the gauge reads above 1; the report counts it).
 */
import type { ServerLoad } from '../../domain/fleet';
import type { InferenceServer, LoadProbe } from '../../domain/ports';
import type { Histogram } from './histogram';
import type { Random } from './random';
import type { VirtualTime } from './virtual-time';

export interface ServerModelConfig {
  readonly slots: number;
  /** running + waiting at which new requests are refused. */
  readonly capacity: number;
  readonly decodeTokensPerSecond: number;
  readonly prefillBaseMs: number;
  readonly prefillPerTokenMs: number;
  readonly kvCapacityTokens: number;
  readonly kvAdmission: 'reserve' | 'overcommit';
  /** The max_tokens every request carries (the product's MAX_ANSWER_TOKENS): what `reserve` holds back. */
  readonly maxAnswerTokens: number;
}

export const MEAN_PROMPT_TOKENS = 600;
export const MEAN_ANSWER_TOKENS = 400;
export const MAX_ANSWER_TOKENS = 1_024;
/**
 * KV cache sized by the rule the README gives for registering a server: every slot's reservation (prompt
 * + max_tokens) fits in the safe share with prompts twice the mean, so the slots, not the cache, bound the
 * batch (a batch of 32 prompts averaging 2× the mean is > 5 standard deviations out). `reserve` admission
 * then guarantees the safe share whatever the batch; a full batch of average sequences fills ≈ 40 % of it.
 */
export const KV_SAFE_SHARE = 0.9;

export const defaultServerConfig: ServerModelConfig = {
  slots: 32,
  capacity: 36,
  decodeTokensPerSecond: 50,
  prefillBaseMs: 50,
  prefillPerTokenMs: 0.1,
  kvCapacityTokens: Math.round((32 * (2 * MEAN_PROMPT_TOKENS + MAX_ANSWER_TOKENS)) / KV_SAFE_SHARE),
  kvAdmission: 'reserve',
  maxAnswerTokens: MAX_ANSWER_TOKENS,
};

export interface Sequence {
  readonly promptTokens: number;
  readonly answerTokens: number;
  /** Called when the sequence starts prefill, with the instant of its first token. */
  onStart(firstTokenAt: number): void;
  /** Called when the last token is out. */
  onDone(): void;
}

interface Running {
  readonly sequence: Sequence;
  readonly decodeFrom: number;
  readonly endsAt: number;
}

export class SimServer {
  readonly running: Running[] = [];
  private readonly waiting: Sequence[] = [];
  private waitingHead = 0;
  completedTotal = 0;
  refusedTotal = 0;
  private promptTokensRunning = 0;
  /** Σ (prompt + max_tokens) of the running sequences: what `reserve` admission has promised. */
  private reservedTokens = 0;

  constructor(
    readonly id: string,
    readonly baseUrl: string,
    private readonly config: ServerModelConfig,
    private readonly time: VirtualTime,
  ) {}

  get capacity(): number {
    return this.config.capacity;
  }

  get waitingCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  /** Accepts the sequence (true) or refuses it with a 503 (false) when running + waiting ≥ capacity. */
  offer(sequence: Sequence): boolean {
    if (this.running.length + this.waitingCount >= this.config.capacity) {
      this.refusedTotal++;
      return false;
    }
    this.waiting.push(sequence);
    this.schedule();
    return true;
  }

  /** KV tokens held now: prompts of the running sequences plus what they generated so far. */
  kvTokens(now: number): number {
    const perMs = this.config.decodeTokensPerSecond / 1000;
    let generated = 0;
    for (const entry of this.running) {
      if (now > entry.decodeFrom) {
        generated += Math.min(entry.sequence.answerTokens, (now - entry.decodeFrom) * perMs);
      }
    }
    return this.promptTokensRunning + generated;
  }

  kvUsage(now: number): number {
    return this.kvTokens(now) / this.config.kvCapacityTokens;
  }

  /** The product's load formula on the server's true state: max(sequences / capacity, kv / kvSafe). */
  loadNow(now: number): number {
    return Math.max(
      (this.running.length + this.waitingCount) / this.config.capacity,
      this.kvUsage(now) / KV_SAFE_SHARE,
    );
  }

  /** What the server's /metrics says now. */
  metrics(now: number) {
    return {
      running: this.running.length,
      waiting: this.waitingCount,
      kvCacheUsage: Math.min(1, this.kvUsage(now)),
      completedTotal: this.completedTotal,
    };
  }

  /** Starts waiting sequences, in order, while a slot is free and the head fits (see `kvAdmission`). */
  private schedule(): void {
    const now = this.time.now();
    const { slots, prefillBaseMs, prefillPerTokenMs, decodeTokensPerSecond } = this.config;
    while (this.running.length < slots && this.waitingCount > 0) {
      const sequence = this.waiting[this.waitingHead] as Sequence;
      if (this.running.length > 0 && !this.fits(sequence, now)) break;
      this.waitingHead++;
      const prefillMs = prefillBaseMs + prefillPerTokenMs * sequence.promptTokens;
      const decodeFrom = now + prefillMs;
      const endsAt = decodeFrom + (sequence.answerTokens / decodeTokensPerSecond) * 1000;
      const entry: Running = { sequence, decodeFrom, endsAt };
      this.running.push(entry);
      this.promptTokensRunning += sequence.promptTokens;
      this.reservedTokens += this.reservation(sequence);
      this.time.at(endsAt, () => this.finish(entry));
      sequence.onStart(decodeFrom);
    }
    if (this.waitingHead > 64 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private reservation(sequence: Sequence): number {
    return sequence.promptTokens + this.config.maxAnswerTokens;
  }

  private fits(sequence: Sequence, now: number): boolean {
    const { kvAdmission, kvCapacityTokens } = this.config;
    if (kvAdmission === 'overcommit') return this.kvTokens(now) + sequence.promptTokens <= kvCapacityTokens;
    return this.reservedTokens + this.reservation(sequence) <= KV_SAFE_SHARE * kvCapacityTokens;
  }

  private finish(entry: Running): void {
    const index = this.running.indexOf(entry);
    const last = this.running.pop() as Running;
    if (last !== entry) this.running[index] = last;
    this.promptTokensRunning -= entry.sequence.promptTokens;
    this.reservedTokens -= this.reservation(entry.sequence);
    this.completedTotal++;
    this.schedule();
    entry.sequence.onDone();
  }
}

export interface ProbeConfig {
  /** Lognormal scrape latency: median and 99th percentile (ms). */
  readonly medianMs: number;
  readonly p99Ms: number;
  /** Share of scrapes that hang until the probe's time-out. */
  readonly timeoutShare: number;
  readonly timeoutMs: number;
}

export const defaultProbeConfig: ProbeConfig = {
  medianMs: 8,
  p99Ms: 60,
  timeoutShare: 0.001,
  timeoutMs: 250,
};

/**
 * The LoadProbe port over simulated servers: the server's gauges at the instant of the call, delivered after
 * a lognormal scrape latency (healthy:false after the time-out for a share of scrapes, or when the latency
 * draws past it). updatedAt is the delivery instant, as the real MetricsLoadProbe stamps it. One probe per
 * heartbeat worker: calls made at the same instant are one tick's scrape, whose duration (the slowest
 * scrape) goes to `tickScrapeMs`.
 */
export class SimLoadProbe implements LoadProbe {
  private batchStartedAt = Number.NaN;
  private batchEndsAt = 0;
  scrapes = 0;
  timeouts = 0;

  constructor(
    private readonly servers: ReadonlyMap<string, SimServer>,
    private readonly time: VirtualTime,
    private readonly random: Random,
    private readonly config: ProbeConfig,
    private readonly tickScrapeMs: Histogram,
  ) {}

  probe(server: InferenceServer & { readonly capacity: number }): Promise<ServerLoad> {
    const now = this.time.now();
    if (now !== this.batchStartedAt) {
      this.flush();
      this.batchStartedAt = now;
      this.batchEndsAt = now;
    }
    this.scrapes++;
    const { medianMs, p99Ms, timeoutShare, timeoutMs } = this.config;
    const sigma = Math.log(p99Ms / medianMs) / 2.3263;
    const drawn = medianMs * Math.exp(sigma * this.random.normal());
    const timedOut = this.random.next() < timeoutShare || drawn >= timeoutMs;
    const latency = timedOut ? timeoutMs : drawn;
    if (now + latency > this.batchEndsAt) this.batchEndsAt = now + latency;
    const sim = this.servers.get(server.id);
    const base = { id: server.id, baseUrl: server.baseUrl, capacity: server.capacity };
    const metrics = sim && !timedOut ? sim.metrics(now) : undefined;
    if (!metrics) this.timeouts++;
    return this.time.later(latency, () =>
      metrics
        ? { ...base, ...metrics, healthy: true, updatedAt: this.time.now() }
        : { ...base, running: 0, waiting: 0, healthy: false, updatedAt: this.time.now() },
    );
  }

  /** Records the last tick's scrape duration (call once at the end of a run). */
  flush(): void {
    if (!Number.isNaN(this.batchStartedAt)) this.tickScrapeMs.add(this.batchEndsAt - this.batchStartedAt);
    this.batchStartedAt = Number.NaN;
  }
}
