import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MetricsParseError,
  parsePrometheusText,
  parseSampleValue,
  parseServerMetrics,
} from '../../domain/metrics-parsers';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/metrics/${name}.txt`, import.meta.url), 'utf8');

describe('parsePrometheusText', () => {
  it('reads HELP and TYPE lines, labels, values and timestamps, skipping other comments', () => {
    // Prepare
    const text = [
      '# A free comment',
      '# HELP http_requests_total The total number of HTTP requests.\\nSecond line \\\\ end',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3   1395066363000',
      '',
      'metric_without_timestamp_and_labels 12.47',
      '  indented_metric{} -3e-2',
      'trailing_comma{a="1",} 1\r',
    ].join('\n');

    // Act
    const exposition = parsePrometheusText(text);

    // Assess
    expect(exposition.help.get('http_requests_total')).toBe(
      'The total number of HTTP requests.\nSecond line \\ end',
    );
    expect(exposition.types.get('http_requests_total')).toBe('counter');
    expect(exposition.samples).toEqual([
      {
        name: 'http_requests_total',
        labels: { method: 'post', code: '200' },
        value: 1027,
        timestampMs: 1395066363000,
      },
      {
        name: 'http_requests_total',
        labels: { method: 'post', code: '400' },
        value: 3,
        timestampMs: 1395066363000,
      },
      { name: 'metric_without_timestamp_and_labels', labels: {}, value: 12.47 },
      { name: 'indented_metric', labels: {}, value: -0.03 },
      { name: 'trailing_comma', labels: { a: '1' }, value: 1 },
    ]);
  });

  it('unescapes label values (backslash, double quote, newline) and keeps braces and commas in them', () => {
    // Prepare
    const text =
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\"",odd="a,b}c"} 1.458255915e9\n';

    // Act
    const [sample] = parsePrometheusText(text).samples;

    // Assess
    expect(sample?.labels).toEqual({
      path: 'C:\\DIR\\FILE.TXT',
      error: 'Cannot find file:\n"FILE.TXT"',
      odd: 'a,b}c',
    });
    expect(sample?.value).toBe(1.458255915e9);
  });

  it('reads NaN, +Inf and -Inf values', () => {
    // Prepare
    const text = 'a NaN\nb +Inf\nc -Inf\nd Inf\ne{le="+Inf"} 4\n';

    // Act
    const values = parsePrometheusText(text).samples.map((sample) => sample.value);

    // Assess
    expect(values).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.POSITIVE_INFINITY,
      4,
    ]);
  });

  it.each([
    ['a value that is not a number', 'metric abc', /line 1: invalid value "abc"/],
    ['a missing value', 'metric', /line 1: expected a space and a value/],
    ['a missing value after labels', 'metric{a="b"}', /line 1: expected a space and a value/],
    ['an unterminated label value', 'metric{a="b} 1', /line 1: unterminated value of label a/],
    ['an unquoted label value', 'metric{a=b} 1', /expected a quoted value for label a/],
    ['an unknown escape', 'metric{a="\\t"} 1', /invalid escape "\\t" in label a/],
    ['a duplicated label', 'metric{a="1",a="2"} 1', /label a given twice/],
    ['a missing comma', 'metric{a="1" b="2"} 1', /expected "," or "}" after label a/],
    ['a bad metric name', '9metric 1', /line 1: expected a metric name/],
    ['a non-integer timestamp', 'metric 1 12.5', /invalid timestamp "12.5"/],
    ['text after the timestamp', 'metric 1 12 extra', /unexpected text after the value/],
    ['an unknown TYPE', '# TYPE metric gaugeish', /unknown metric type "gaugeish"/],
    ['a second TYPE line', '# TYPE m gauge\n# TYPE m counter', /line 2: second TYPE line for m/],
    ['a bad name in HELP', '# HELP 1bad text', /invalid metric name "1bad"/],
    ['HTML instead of metrics', '<html><body>Bad Gateway</body></html>', /line 1: expected a metric name/],
  ])('rejects %s', (_case, text, message) => {
    // Act
    const act = () => parsePrometheusText(text);

    // Assess
    expect(act).toThrow(MetricsParseError);
    expect(act).toThrow(message);
  });

  it('names the line of the first error', () => {
    // Prepare
    const text = '# TYPE a gauge\na 1\n\nb{x="1"} one\n';

    // Act
    const act = () => parsePrometheusText(text);

    // Assess
    expect(act).toThrow(/^line 4: invalid value "one" for b$/);
  });
});

describe('parseSampleValue', () => {
  it('accepts Go float syntax and rejects the rest', () => {
    // Act
    const accepted = ['1', '1.', '.5', '-2.5e3', '+7', '1E-3', 'nan', '+inf'].map(parseSampleValue);
    const rejected = ['', '0x10', '1,5', 'one', '--1', '1e'].map(parseSampleValue);

    // Assess
    expect(accepted).toEqual([1, 1, 0.5, -2500, 7, 0.001, Number.NaN, Number.POSITIVE_INFINITY]);
    expect(rejected).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

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
