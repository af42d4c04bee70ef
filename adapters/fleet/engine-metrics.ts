/**
 * Inference servers' load from one /metrics scrape. `parseServerMetrics` recognises the engine (vLLM, TGI,
 * llama.cpp, SGLang, TensorRT-LLM) by its metric names (the shared engineering notes, "Inference servers'
 * load metrics") and sums the running and waiting gauges over their label sets (several `model_name` or
 * data-parallel `engine` series).
 */
import { MetricsParseError, type PrometheusSample, parsePrometheusText } from './prometheus-text';

export type InferenceEngine = 'vllm' | 'tgi' | 'llamacpp' | 'sglang' | 'trtllm';

export interface ServerMetrics {
  readonly engine: InferenceEngine;
  /** Sequences in the running batch (summed over label sets). */
  readonly running: number;
  /** Requests queued for a batch slot (summed over label sets). */
  readonly waiting: number;
  /** 0..1; the highest over label sets. Absent when the engine has no KV gauge or reports NaN. */
  readonly kvCacheUsage?: number;
  /** Requests finished since the server started (a counter), where the engine exposes one. */
  readonly completedTotal?: number;
}

interface EngineMetricNames {
  readonly engine: InferenceEngine;
  readonly running: string;
  readonly waiting: string;
  /** KV-cache use gauges, preferred first. */
  readonly kv: readonly string[];
  /** Counter of finished requests, from which the heartbeat derives how fast slots free up. */
  readonly completed?: string;
}

/** Metric names per engine (Prometheus text at /metrics). */
const ENGINE_METRICS: readonly EngineMetricNames[] = [
  {
    engine: 'vllm',
    running: 'vllm:num_requests_running',
    waiting: 'vllm:num_requests_waiting',
    // gpu_cache_usage_perc was renamed kv_cache_usage_perc (the old name went around 0.12).
    kv: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'],
    completed: 'vllm:request_success_total',
  },
  {
    engine: 'tgi',
    running: 'tgi_batch_current_size',
    waiting: 'tgi_queue_size',
    kv: [],
    completed: 'tgi_request_success',
  },
  {
    engine: 'llamacpp',
    running: 'llamacpp:requests_processing',
    waiting: 'llamacpp:requests_deferred',
    kv: [],
  },
  {
    engine: 'sglang',
    running: 'sglang:num_running_reqs',
    waiting: 'sglang:num_queue_reqs',
    kv: ['sglang:token_usage'],
  },
  {
    engine: 'trtllm',
    running: 'trtllm_num_requests_running',
    waiting: 'trtllm_num_requests_waiting',
    kv: ['trtllm_kv_cache_utilization'],
  },
];

function samplesNamed(samples: readonly PrometheusSample[], name: string): PrometheusSample[] {
  return samples.filter((sample) => sample.name === name);
}

function sumCount(samples: readonly PrometheusSample[], name: string): number {
  let total = 0;
  for (const sample of samples) {
    if (!Number.isFinite(sample.value) || sample.value < 0) {
      throw new MetricsParseError(`${name} has an invalid value ${sample.value}`);
    }
    total += sample.value;
  }
  return total;
}

/**
 * The engine and its load from one scrape. Throws MetricsParseError on malformed text, on text with no
 * known engine's load metrics, on an engine with only one of its two gauges, or on several engines.
 */
export function parseServerMetrics(text: string): ServerMetrics {
  const { samples } = parsePrometheusText(text);
  const found: ServerMetrics[] = [];
  for (const names of ENGINE_METRICS) {
    const running = samplesNamed(samples, names.running);
    const waiting = samplesNamed(samples, names.waiting);
    if (running.length === 0 && waiting.length === 0) continue;
    if (running.length === 0 || waiting.length === 0) {
      const missing = running.length === 0 ? names.running : names.waiting;
      throw new MetricsParseError(`${names.engine} metrics without ${missing}`);
    }
    const kvCacheUsage = kvUsage(samples, names.kv);
    const completed = names.completed === undefined ? [] : samplesNamed(samples, names.completed);
    found.push({
      engine: names.engine,
      running: sumCount(running, names.running),
      waiting: sumCount(waiting, names.waiting),
      ...(kvCacheUsage === undefined ? {} : { kvCacheUsage }),
      ...(completed.length > 0 && names.completed !== undefined
        ? { completedTotal: sumCount(completed, names.completed) }
        : {}),
    });
  }
  const [only, ...others] = found;
  if (only === undefined) {
    const known = ENGINE_METRICS.map((names) => names.running).join(', ');
    throw new MetricsParseError(`no known inference server load metrics found (looked for ${known})`);
  }
  if (others.length > 0) {
    throw new MetricsParseError(
      `load metrics of several engines found: ${found.map((metrics) => metrics.engine).join(', ')}`,
    );
  }
  return only;
}

/** The first KV gauge present: the highest of its series, clamped to 0..1; undefined if absent or NaN. */
function kvUsage(samples: readonly PrometheusSample[], names: readonly string[]): number | undefined {
  for (const name of names) {
    const series = samplesNamed(samples, name);
    if (series.length === 0) continue;
    const values = series.map((sample) => sample.value).filter((value) => !Number.isNaN(value));
    if (values.length === 0) return undefined;
    return Math.min(1, Math.max(0, ...values));
  }
  return undefined;
}
