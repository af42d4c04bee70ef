/** The server's counters and latency histograms, exposed under vLLM's metric names (Prometheus text). */
import type { FinishReason } from './openai-http';
import { Histogram, renderFamily } from './prometheus';

const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920];

/** The gauges of the moment, read from the scheduler when scraped. */
export interface LoadGauges {
  readonly running: number;
  readonly waiting: number;
  readonly kvCacheUsage: number;
}

export class SimulatedServerMetrics {
  completed = 0;
  aborted = 0;
  rejected = 0;
  killed = 0;
  badRequests = 0;
  requestsTotal = 0;
  promptTokensTotal = 0;
  generationTokensTotal = 0;
  readonly successByReason: Record<FinishReason, number> = { stop: 0, length: 0 };
  readonly ttft = new Histogram(TTFT_BUCKETS);
  readonly e2e = new Histogram(E2E_BUCKETS);

  render(model: string, load: LoadGauges): string {
    const labels = { model_name: model };
    return [
      renderFamily('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', [
        { labels, value: load.running },
      ]),
      renderFamily('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', [
        { labels, value: load.waiting },
      ]),
      renderFamily('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', [
        { labels, value: load.kvCacheUsage },
      ]),
      renderFamily(
        'vllm:request_success_total',
        'counter',
        'Count of successfully processed requests.',
        (['stop', 'length'] as const).map((reason) => ({
          labels: { finished_reason: reason, ...labels },
          value: this.successByReason[reason],
        })),
      ),
      renderFamily('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', [
        { labels, value: this.promptTokensTotal },
      ]),
      renderFamily('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', [
        { labels, value: this.generationTokensTotal },
      ]),
      renderFamily(
        'vllm:time_to_first_token_seconds',
        'histogram',
        'Histogram of time to first token in seconds.',
        this.ttft.samples(labels),
      ),
      renderFamily(
        'vllm:e2e_request_latency_seconds',
        'histogram',
        'Histogram of end to end request latency in seconds.',
        this.e2e.samples(labels),
      ),
    ].join('');
  }
}
