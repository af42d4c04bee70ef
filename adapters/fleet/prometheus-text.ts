/**
 * A small, strict parser of the Prometheus text exposition format 0.0.4, as inference servers serve it at
 * /metrics: `# HELP` and `# TYPE` lines, other comments, samples `name{label="value",…} value [timestamp]`
 * with escaped label values (\\, \", \n), NaN / ±Inf values and optional millisecond timestamps.
 * Anything else is an error naming the line: a half-read scrape must not pass for an idle server.
 * What the samples mean per engine is engine-metrics.ts's.
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
