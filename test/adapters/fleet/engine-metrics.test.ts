import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseServerMetrics } from '../../../adapters/fleet/engine-metrics';
import { MetricsParseError } from '../../../adapters/fleet/prometheus-text';

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/metrics/${name}.txt`, import.meta.url), 'utf8');

describe('parseServerMetrics', () => {
  it.each([
    ['vllm', { engine: 'vllm', running: 12, waiting: 3, kvCacheUsage: 0.4172, completedTotal: 1576 }],
    ['vllm-legacy', { engine: 'vllm', running: 4, waiting: 0, kvCacheUsage: 0.0873 }],
    ['tgi', { engine: 'tgi', running: 24, waiting: 6, completedTotal: 8790 }],
    ['llamacpp', { engine: 'llamacpp', running: 3, waiting: 1 }],
    ['sglang', { engine: 'sglang', running: 18, waiting: 4, kvCacheUsage: 0.62 }],
    ['trtllm', { engine: 'trtllm', running: 32, waiting: 9, kvCacheUsage: 0.915 }],
  ])('reads the load of a recorded %s scrape', (name, expected) => {
    // Prepare
    const text = fixture(name);

    // Act
    const metrics = parseServerMetrics(text);

    // Assess
    expect(metrics).toEqual(expected);
  });

  it('sums running and waiting over several model_name series and takes the highest KV use', () => {
    // Prepare
    const text = [
      'vllm:num_requests_running{model_name="base"} 2',
      'vllm:num_requests_running{model_name="base-lora \\"sql\\""} 3',
      'vllm:num_requests_waiting{model_name="base"} 1',
      'vllm:num_requests_waiting{model_name="base-lora \\"sql\\""} 0',
      'vllm:kv_cache_usage_perc{model_name="base"} 0.25',
      'vllm:kv_cache_usage_perc{model_name="base-lora \\"sql\\""} 0.5',
    ].join('\n');

    // Act
    const metrics = parseServerMetrics(text);

    // Assess
    expect(metrics).toEqual({ engine: 'vllm', running: 5, waiting: 1, kvCacheUsage: 0.5 });
  });

  it('prefers the new vLLM KV gauge when both names are exposed', () => {
    // Prepare
    const text = [
      'vllm:num_requests_running 1',
      'vllm:num_requests_waiting 0',
      'vllm:gpu_cache_usage_perc 0.9',
      'vllm:kv_cache_usage_perc 0.3',
    ].join('\n');

    // Act
    const metrics = parseServerMetrics(text);

    // Assess
    expect(metrics.kvCacheUsage).toBe(0.3);
  });

  it('leaves KV use out when the gauge is NaN and clamps it to 0..1', () => {
    // Prepare
    const nan = 'sglang:num_running_reqs 1\nsglang:num_queue_reqs 0\nsglang:token_usage NaN\n';
    const over = 'sglang:num_running_reqs 1\nsglang:num_queue_reqs 0\nsglang:token_usage 1.02\n';

    // Act
    const fromNan = parseServerMetrics(nan);
    const fromOver = parseServerMetrics(over);

    // Assess
    expect(fromNan).toEqual({ engine: 'sglang', running: 1, waiting: 0 });
    expect(fromOver.kvCacheUsage).toBe(1);
  });

  it('throws a clear error for text without any known load metric', () => {
    // Prepare
    const text = '# HELP go_goroutines Number of goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 12\n';

    // Act
    const act = () => parseServerMetrics(text);

    // Assess
    expect(act).toThrow(MetricsParseError);
    expect(act).toThrow(/no known inference server load metrics found/);
  });

  it('throws for an empty scrape', () => {
    // Act
    const act = () => parseServerMetrics('');

    // Assess
    expect(act).toThrow(/no known inference server load metrics found/);
  });

  it('throws when an engine exposes only one of its two gauges', () => {
    // Prepare
    const text = 'tgi_queue_size 3\n';

    // Act
    const act = () => parseServerMetrics(text);

    // Assess
    expect(act).toThrow('tgi metrics without tgi_batch_current_size');
  });

  it('throws for a negative or NaN request count', () => {
    // Prepare
    const negative = 'llamacpp:requests_processing -1\nllamacpp:requests_deferred 0\n';
    const nan = 'llamacpp:requests_processing 1\nllamacpp:requests_deferred NaN\n';

    // Act
    const actNegative = () => parseServerMetrics(negative);
    const actNan = () => parseServerMetrics(nan);

    // Assess
    expect(actNegative).toThrow(/llamacpp:requests_processing has an invalid value -1/);
    expect(actNan).toThrow(/llamacpp:requests_deferred has an invalid value NaN/);
  });

  it('throws when several engines are present', () => {
    // Prepare
    const text = `${fixture('tgi')}${fixture('llamacpp')}`;

    // Act
    const act = () => parseServerMetrics(text);

    // Assess
    expect(act).toThrow('load metrics of several engines found: tgi, llamacpp');
  });

  it('throws on a truncated scrape', () => {
    // Prepare
    const full = fixture('vllm');
    const truncated = full.slice(0, full.indexOf('vllm:num_requests_waiting{engine="0"') + 40);

    // Act
    const act = () => parseServerMetrics(truncated);

    // Assess
    expect(act).toThrow(MetricsParseError);
  });
});
