/**
 * Counts what the app writes to stdout and stderr — on Lambda, every line there becomes a CloudWatch
 * Logs event, billed by its bytes — by decorating the two streams' `write` for the model's run. The
 * app's logger (Powertools) and its metrics (EMF documents, also log events) write through their own
 * Console on process.stdout/stderr, so both are seen. Lines are attributed to the phase the model is
 * measuring and kept out of the terminal; the model prints through `print`.
 */

export type LineKind = 'log' | 'metric' | 'other';

export interface MeteredLine {
  readonly phase: string;
  readonly stream: 'stdout' | 'stderr';
  readonly kind: LineKind;
  /** UTF-8 bytes, newline excluded. */
  readonly bytes: number;
  /** A log line's `message`, or the metrics of an EMF document (`Name[dimensions]`, joined by +). */
  readonly label: string;
}

type Write = typeof process.stdout.write;

function classify(line: string): { kind: LineKind; label: string } {
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    const aws = parsed._aws as
      | { CloudWatchMetrics?: { Dimensions?: string[][]; Metrics?: { Name?: string }[] }[] }
      | undefined;
    if (aws) {
      // `Name[dimension,…]` per metric: what makes a CloudWatch metric (and its monthly price).
      const names = (aws.CloudWatchMetrics ?? []).flatMap((entry) => {
        const dimensions = (entry.Dimensions ?? []).flat().join(',');
        return (entry.Metrics ?? []).map((metric) => `${metric.Name}[${dimensions}]`);
      });
      return { kind: 'metric', label: names.join('+') };
    }
    if (typeof parsed.level === 'string' && typeof parsed.message === 'string') {
      return { kind: 'log', label: parsed.message };
    }
  } catch {
    // not JSON: fall through
  }
  return { kind: 'other', label: line.slice(0, 60) };
}

export class LogMeter {
  readonly lines: MeteredLine[] = [];
  private readonly originals: { stdout: Write; stderr: Write };
  private partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private installed = false;

  constructor(private readonly phase: () => string) {
    this.originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  }

  install(): void {
    if (this.installed) throw new Error('The log meter is already installed');
    this.installed = true;
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = process[name];
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.take(
          name,
          typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'),
        );
        const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        callback?.();
        return true;
      }) as Write;
    }
  }

  uninstall(): void {
    if (!this.installed) return;
    process.stdout.write = this.originals.stdout;
    process.stderr.write = this.originals.stderr;
    this.installed = false;
  }

  /** Writes to the real stdout, uncounted. */
  print(text: string): void {
    this.originals.stdout.call(process.stdout, text);
  }

  linesIn(phase: string): MeteredLine[] {
    return this.lines.filter((line) => line.phase === phase);
  }

  private take(stream: 'stdout' | 'stderr', text: string): void {
    const pieces = (this.partial[stream] + text).split('\n');
    this.partial[stream] = pieces.pop() ?? '';
    for (const line of pieces) {
      if (line === '') continue;
      this.lines.push({ phase: this.phase(), stream, bytes: Buffer.byteLength(line), ...classify(line) });
    }
  }
}
