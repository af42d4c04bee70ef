/**
 * Reads one inference server's load by scraping its Prometheus `/metrics` (vLLM, TGI, llama.cpp, SGLang,
 * TensorRT-LLM: see engine-metrics.ts). Never throws: a refused connection, a time-out, a non-200
 * answer, an oversized or unparseable body all give healthy=false with no load figures, so the fleet
 * state never keeps a dead server's last numbers.
 */

import type { ServerLoad } from '../../domain/fleet';
import type { Clock, InferenceServer, LoadProbe, Log } from '../../domain/ports';
import { systemClock } from '../../domain/ports';
import { bearer, type FleetApiKey } from '../inference/fleet-api-key';
import { parseServerMetrics, type ServerMetrics } from './engine-metrics';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface MetricsLoadProbeOptions {
  readonly clock?: Clock;
  readonly fetch?: FetchLike;
  /** Whole scrape (connect, headers, body). Default 500 ms: a server slower than that is not healthy. */
  readonly timeoutMs?: number;
  /** Largest body read. Default 4 MiB (a vLLM scrape with histograms is ~100 KB). */
  readonly maxBytes?: number;
  /** Gets one warning per failed scrape, with the server id and a short reason code. */
  readonly log?: Pick<Log, 'warn'>;
  /** The servers' bearer key, sent on every scrape; a 401 marks the server unhealthy and asks for a refresh. */
  readonly apiKey?: FleetApiKey;
}

const DEFAULT_PROBE_TIMEOUT_MS = 500;
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/** Why a scrape failed, as a short code for logs. */
export type ProbeFailure =
  | 'timeout'
  | 'unreachable'
  | `http_${number}`
  | 'too_large'
  | 'unparseable'
  | 'key_unavailable';

class ProbeError extends Error {
  constructor(readonly reason: ProbeFailure) {
    super(reason);
  }
}

export class MetricsLoadProbe implements LoadProbe {
  private readonly clock: Clock;
  private readonly fetch: FetchLike;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly log: Pick<Log, 'warn'> | undefined;
  private readonly apiKey: FleetApiKey | undefined;

  constructor(options: MetricsLoadProbeOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.log = options.log;
    this.apiKey = options.apiKey;
    if (!(this.timeoutMs > 0)) throw new Error(`timeoutMs must be > 0, got ${this.timeoutMs}`);
  }

  async probe(server: InferenceServer & { readonly capacity: number }): Promise<ServerLoad> {
    const base = { id: server.id, baseUrl: server.baseUrl, capacity: server.capacity };
    try {
      const metrics = await this.scrape(server);
      return {
        ...base,
        running: metrics.running,
        waiting: metrics.waiting,
        ...(metrics.kvCacheUsage === undefined ? {} : { kvCacheUsage: metrics.kvCacheUsage }),
        ...(metrics.completedTotal === undefined ? {} : { completedTotal: metrics.completedTotal }),
        healthy: true,
        updatedAt: this.clock.now(),
      };
    } catch (error) {
      const reason: ProbeFailure = error instanceof ProbeError ? error.reason : failureOf(error);
      this.log?.warn(
        reason === 'http_401' ? 'inference server refused the API key' : 'inference server scrape failed',
        { server: server.id, reason },
      );
      return { ...base, running: 0, waiting: 0, healthy: false, updatedAt: this.clock.now() };
    }
  }

  private async scrape(server: InferenceServer): Promise<ServerMetrics> {
    const apiKey = this.apiKey;
    let key: string | undefined;
    try {
      key = !apiKey || apiKey.ready ? apiKey?.current : await apiKey.get();
    } catch {
      throw new ProbeError('key_unavailable');
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ProbeError('timeout')), this.timeoutMs);
    try {
      const response = await this.fetch(`${server.baseUrl}/metrics`, {
        method: 'GET',
        headers: { accept: 'text/plain;version=0.0.4', ...bearer(key) },
        signal: controller.signal,
        redirect: 'error',
      });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        // Not awaited: the next tick's scrape uses the renewed key (the Secret rate-limits the reads).
        if (response.status === 401) void apiKey?.renewAfter(key).catch(() => undefined);
        throw new ProbeError(`http_${response.status}`);
      }
      const text = await readText(response, this.maxBytes);
      try {
        return parseServerMetrics(text);
      } catch {
        throw new ProbeError('unparseable');
      }
    } catch (error) {
      if (controller.signal.aborted) throw new ProbeError('timeout');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function failureOf(error: unknown): ProbeFailure {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return 'timeout';
  return 'unreachable';
}

/** The body as UTF-8, refusing more than maxBytes without reading it all. */
async function readText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProbeError('too_large');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ProbeError('too_large');
      }
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  } catch (error) {
    // Invalid UTF-8 is unparseable; anything else (a reset mid-body, the time-out) passes through.
    if (
      error instanceof TypeError &&
      (error as { code?: unknown }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA'
    ) {
      throw new ProbeError('unparseable');
    }
    throw error;
  }
}
