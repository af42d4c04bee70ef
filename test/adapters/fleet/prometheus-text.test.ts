import { describe, expect, it } from 'vitest';
import {
  MetricsParseError,
  parsePrometheusText,
  parseSampleValue,
} from '../../../adapters/fleet/prometheus-text';

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
      'lora_requests_info{adapters="a\\\\b\\\\c",error="Cannot load:\\n\\"sql-lora\\"",odd="a,b}c"} 1.458255915e9\n';

    // Act
    const [sample] = parsePrometheusText(text).samples;

    // Assess
    expect(sample?.labels).toEqual({
      adapters: 'a\\b\\c',
      error: 'Cannot load:\n"sql-lora"',
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
