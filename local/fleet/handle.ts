/** What a running simulated server offers its owner (tests, the fleet) and reports about itself. */
import type { TunableOptions } from './options';

export interface SimulatedServerStats {
  id: string;
  model: string;
  listening: boolean;
  stalled: boolean;
  /** Sequences holding a slot. */
  running: number;
  /** Requests queued for a slot. */
  waiting: number;
  /** Requests answered to the end (finish_reason stop or length). */
  completed: number;
  /** Requests whose client went away before the end (queued or running). */
  aborted: number;
  /** Requests refused with 503 because the queue was full. */
  rejected: number;
  /** Requests cut off by kill() or close(). */
  killed: number;
  /** Chat requests refused with 400. */
  badRequests: number;
  /** Valid chat completion requests received (including rejected ones). */
  requestsTotal: number;
  promptTokensTotal: number;
  generationTokensTotal: number;
  /** Simulated KV cache use, 0..1. */
  kvCacheUsage: number;
  /** Requests to /v1/* and /metrics that carried the required key (0 when none is required). */
  authorizedRequests: number;
  /** Requests to /v1/* and /metrics refused 401 for a missing or wrong key. */
  unauthorizedRequests: number;
  options: TunableOptions;
}

export interface SimulatedServerHandle {
  readonly id: string;
  readonly model: string;
  readonly host: string;
  /** Fixed at the first listen; restart() listens on it again. */
  readonly port: number;
  /** `http://host:port` (the OpenAI client's baseURL is `${baseUrl}/v1`). */
  readonly baseUrl: string;
  stats(): SimulatedServerStats;
  options(): TunableOptions;
  /** Changes options live; throws on an invalid value. Returns the resulting options. */
  setOptions(partial: Partial<TunableOptions>): TunableOptions;
  /** The bearer key required from now on (undefined or '': none), as a rotated `--api-key`. */
  setApiKey(key: string | undefined): void;
  /** Running sequences stop emitting tokens for `ms` (Infinity = until stall(false)); false resumes. */
  stall(ms: number | false): void;
  /** Crash: destroys every open socket mid-stream and stops listening. */
  kill(): Promise<void>;
  /** Listens again on the same port after kill(). */
  restart(): Promise<void>;
  /** Stops for good: like kill(), and clears every timer. Idempotent. */
  close(): Promise<void>;
}
