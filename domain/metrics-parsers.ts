/**
 * Inference servers' load from their Prometheus /metrics text.
 *
 * `parsePrometheusText` is a small, strict parser of the text exposition format 0.0.4: `# HELP` and
 * `# TYPE` lines, other comments, samples `name{label="value",…} value [timestamp]` with escaped label
 * values (\\, \", \n), NaN / ±Inf values and optional millisecond timestamps. Anything else is an error
 * naming the line: a half-read scrape must not pass for an idle server.
 *
 * `parseServerMetrics` recognises the engine by its metric names (the shared engineering notes, "Inference
 * servers' load metrics") and sums the running and waiting gauges over their label sets (several `model_name` or data-parallel `engine` series).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PrometheusSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  readonly timestampMs?: number;
}

export interface PrometheusExposition {
  readonly samples: readonly PrometheusSample[];
  /** Metric family types declared by `# TYPE` lines. */
  readonly types: ReadonlyMap<string, MetricType>;
  /** Docstrings declared by `# HELP` lines (unescaped). */
  readonly help: ReadonlyMap<string, string>;
}

export class MetricsParseError extends Error {
  override readonly name = 'MetricsParseError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_PREFIX = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
const METRIC_TYPES: ReadonlySet<string> = new Set<MetricType>([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
]);

/** A sample value as Prometheus writes it: a decimal float, NaN, +Inf or -Inf (case-insensitive, like Go). */
export function parseSampleValue(text: string): number | undefined {
  if (FLOAT.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  const unsigned = lower.replace(/^[+-]/, '');
  if (unsigned === 'inf' || unsigned === 'infinity') {
    return lower.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return undefined;
}

function unescapeHelp(text: string, fail: (message: string) => never): string {
  return text.replace(/\\(.?)/g, (_match, next: string) => {
    if (next === '\\') return '\\';
    if (next === 'n') return '\n';
    return fail(`invalid escape "\\${next}" in HELP text`);
  });
}

/** Parses a whole scrape; throws MetricsParseError naming the first bad line. */
export function parsePrometheusText(text: string): PrometheusExposition {
  const samples: PrometheusSample[] = [];
  const types = new Map<string, MetricType>();
  const help = new Map<string, string>();
  const lines = text.split('\n');
  lines.forEach((rawLine, index) => {
    const fail = (message: string): never => {
      throw new MetricsParseError(`line ${index + 1}: ${message}`);
    };
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') return;
    const trimmed = line.replace(/^[ \t]+/, '');
    if (trimmed.startsWith('#')) {
      parseComment(trimmed, types, help, fail);
      return;
    }
    samples.push(parseSampleLine(trimmed, fail));
  });
  return { samples, types, help };
}

function parseComment(
  line: string,
  types: Map<string, MetricType>,
  help: Map<string, string>,
  fail: (message: string) => never,
): void {
  const match = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
  if (!match) return; // an ordinary comment
  const [, keyword, name = '', rest = ''] = match;
  if (!METRIC_NAME.test(name)) fail(`invalid metric name "${name}" in ${keyword} line`);
  if (keyword === 'HELP') {
    if (help.has(name)) fail(`second HELP line for ${name}`);
    help.set(name, unescapeHelp(rest, fail));
    return;
  }
  const type = rest.trim();
  if (!METRIC_TYPES.has(type)) fail(`unknown metric type "${type}" for ${name}`);
  if (types.has(name)) fail(`second TYPE line for ${name}`);
  types.set(name, type as MetricType);
}

function parseSampleLine(line: string, fail: (message: string) => never): PrometheusSample {
  const nameMatch = METRIC_NAME_PREFIX.exec(line);
  if (!nameMatch) return fail('expected a metric name');
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = parseLabels(rest.slice(1), labels, fail);
  }
  if (!/^[ \t]/.test(rest)) fail(`expected a space and a value after ${name}`);
  const fields = rest.trim().split(/[ \t]+/);
  if (fields.length > 2) fail(`unexpected text after the value of ${name}`);
  const [valueText = '', timestampText] = fields;
  const value = parseSampleValue(valueText);
  if (value === undefined) return fail(`invalid value "${valueText}" for ${name}`);
  if (timestampText === undefined) return { name, labels, value };
  if (!INTEGER.test(timestampText)) fail(`invalid timestamp "${timestampText}" for ${name}`);
  return { name, labels, value, timestampMs: Number(timestampText) };
}

/** Reads `name="value",…}` (after the opening brace) into labels; returns the text after the brace. */
function parseLabels(text: string, labels: Record<string, string>, fail: (message: string) => never): string {
  let rest = text;
  for (;;) {
    rest = rest.replace(/^[ \t]+/, '');
    if (rest.startsWith('}')) return rest.slice(1);
    const labelMatch = LABEL_NAME_PREFIX.exec(rest);
    if (!labelMatch) return fail('expected a label name or "}"');
    const labelName = labelMatch[0];
    rest = rest.slice(labelName.length).replace(/^[ \t]+/, '');
    if (!rest.startsWith('=')) return fail(`expected "=" after label ${labelName}`);
    rest = rest.slice(1).replace(/^[ \t]+/, '');
    if (!rest.startsWith('"')) return fail(`expected a quoted value for label ${labelName}`);
    let value = '';
    let i = 1;
    for (;;) {
      const char = rest[i];
      if (char === undefined) return fail(`unterminated value of label ${labelName}`);
      if (char === '"') break;
      if (char === '\\') {
        const next = rest[i + 1];
        if (next === '\\' || next === '"') value += next;
        else if (next === 'n') value += '\n';
        else return fail(`invalid escape "\\${next ?? ''}" in label ${labelName}`);
        i += 2;
        continue;
      }
      value += char;
      i++;
    }
    if (Object.hasOwn(labels, labelName)) fail(`label ${labelName} given twice`);
    labels[labelName] = value;
    rest = rest.slice(i + 1).replace(/^[ \t]+/, '');
    if (rest.startsWith(',')) {
      rest = rest.slice(1);
      continue;
    }
    if (!rest.startsWith('}')) return fail(`expected "," or "}" after label ${labelName}`);
  }
}

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
export const ENGINE_METRICS: readonly EngineMetricNames[] = [
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
