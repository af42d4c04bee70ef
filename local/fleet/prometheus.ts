// Minimal Prometheus text exposition (format 0.0.4) for the simulated inference server.

export type Labels = Readonly<Record<string, string>>;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${escapeLabelValue(value)}"`).join(',')}}`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export interface Sample {
  labels: Labels;
  value: number;
  /** Suffix appended to the family name (`_bucket`, `_sum`, `_count`). */
  suffix?: string;
}

export function renderFamily(
  name: string,
  type: 'gauge' | 'counter' | 'histogram',
  help: string,
  samples: readonly Sample[],
): string {
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
  for (const sample of samples) {
    lines.push(`${name}${sample.suffix ?? ''}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A cumulative histogram with fixed upper bounds (seconds), rendered with `_bucket`, `_sum`, `_count`. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      const bound = this.bounds[i];
      if (bound !== undefined && value <= bound) this.counts[i] = (this.counts[i] ?? 0) + 1;
    }
  }

  samples(labels: Labels): Sample[] {
    const samples: Sample[] = this.bounds.map((bound, i) => ({
      suffix: '_bucket',
      labels: { ...labels, le: formatValue(bound) },
      value: this.counts[i] ?? 0,
    }));
    samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: this.count });
    samples.push({ suffix: '_sum', labels, value: this.sum });
    samples.push({ suffix: '_count', labels, value: this.count });
    return samples;
  }
}
