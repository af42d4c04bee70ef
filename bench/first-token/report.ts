/** The first-token benchmark's tables: latency per target, CPU per process, and the goals met or not. */
import type { LoopResult } from './closed-loop';

export interface TargetRun {
  readonly name: string;
  readonly loop: LoopResult;
}

export interface Goals {
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  readonly refusals: number;
  readonly cpuMicrosPerToken: number;
}

export const GOALS: Goals = { addedP50Ms: 25, addedP99Ms: 75, refusals: 0, cpuMicrosPerToken: 10 };

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export interface TargetSummary {
  readonly name: string;
  readonly recorded: number;
  readonly p50: number;
  readonly p99: number;
  readonly refusals: number;
  readonly failed: number;
  readonly streams: number;
  readonly tokens: number;
  readonly seconds: number;
  readonly cpuMs: Readonly<Record<string, number>>;
}

export function summarize(run: TargetRun): TargetSummary {
  const { results } = run.loop;
  const firsts = results.flatMap((result) =>
    result.ok && result.firstContentMs !== undefined ? [result.firstContentMs] : [],
  );
  return {
    name: run.name,
    recorded: results.length,
    p50: percentile(firsts, 50),
    p99: percentile(firsts, 99),
    refusals: results.filter((result) => result.status !== 200).length,
    failed: results.filter((result) => result.status === 200 && !result.ok).length,
    streams: run.loop.streams,
    tokens: run.loop.tokens,
    seconds: run.loop.wallMs / 1000,
    cpuMs: Object.fromEntries(
      Object.entries(run.loop.cpuMicros).map(([name, micros]) => [name, micros / 1000]),
    ),
  };
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const pad = (text: string, width: number) => text.padStart(width);

export function latencyTable(summaries: readonly TargetSummary[], direct?: TargetSummary): string[] {
  const lines = [
    `| target | p50 | p99 | added p50 / p99 over direct | refusals (non-200) | failed | recorded |`,
    `|---|---|---|---|---|---|---|`,
  ];
  for (const row of summaries) {
    const added =
      direct && row !== direct ? `${ms(row.p50 - direct.p50)} / ${ms(row.p99 - direct.p99)}` : '—';
    lines.push(
      `| ${row.name} | ${ms(row.p50)} | ${ms(row.p99)} | ${added} | ${row.refusals} | ${row.failed} | ${row.recorded} |`,
    );
  }
  return lines;
}

/** CPU of one process in one phase: total, per stream, per token. */
export function cpuTable(summaries: readonly TargetSummary[], processes: readonly string[]): string[] {
  const lines = [
    `| phase | streams | tokens | ${processes.map((name) => `${name} CPU ms (µs/stream, µs/token)`).join(' | ')} |`,
    `|---|---|---|${processes.map(() => '---').join('|')}|`,
  ];
  for (const row of summaries) {
    const cells = processes.map((name) => {
      const cpu = row.cpuMs[name] ?? 0;
      return `${cpu.toFixed(0)} (${((cpu * 1000) / row.streams).toFixed(0)}, ${((cpu * 1000) / Math.max(1, row.tokens)).toFixed(1)})`;
    });
    lines.push(`| ${row.name} | ${row.streams} | ${row.tokens} | ${cells.join(' | ')} |`);
  }
  return lines;
}

export function goalLines(direct: TargetSummary, app: TargetSummary, stackProcess: string): string[] {
  const stackMs = app.cpuMs[stackProcess] ?? 0;
  // The stack's background work (heartbeat, poller, sweeper) while it served nothing: the direct phase.
  const idleMsPerSecond = (direct.cpuMs[stackProcess] ?? 0) / direct.seconds;
  const netMs = stackMs - idleMsPerSecond * app.seconds;
  const perToken = (stackMs * 1000) / Math.max(1, app.tokens);
  const check = (met: boolean) => (met ? 'met' : 'NOT met');
  const addedP50 = app.p50 - direct.p50;
  const addedP99 = app.p99 - direct.p99;
  const dynamoMs = app.cpuMs.dynamodb;
  const dynamoLine =
    dynamoMs === undefined
      ? []
      : [
          `dynalite in its own process (not the stack's): ${((dynamoMs * 1000) / app.streams).toFixed(0)} µs per turn` +
            ` (${((((direct.cpuMs.dynamodb ?? 0) / direct.seconds) * app.seconds * 1000) / app.streams).toFixed(0)} of them its idle rate)`,
        ];
  return [
    ...dynamoLine,
    `stack CPU in the app phase: ${stackMs.toFixed(0)} ms = ${((stackMs * 1000) / app.streams).toFixed(0)} µs per turn, ${perToken.toFixed(1)} µs per token relayed` +
      ` (net of its idle ${idleMsPerSecond.toFixed(1)} ms/s background: ${((netMs * 1000) / app.streams).toFixed(0)} µs per turn, ${((netMs * 1000) / Math.max(1, app.tokens)).toFixed(1)} µs per token)`,
    `goal: app adds ≤ ${GOALS.addedP50Ms} ms at p50 → ${pad(ms(addedP50), 9)}  ${check(addedP50 <= GOALS.addedP50Ms)}`,
    `goal: app adds ≤ ${GOALS.addedP99Ms} ms at p99 → ${pad(ms(addedP99), 9)}  ${check(addedP99 <= GOALS.addedP99Ms)}`,
    `goal: ${GOALS.refusals} refusals          → ${pad(String(app.refusals), 9)}  ${check(app.refusals <= GOALS.refusals)}`,
    `goal: ≤ ${GOALS.cpuMicrosPerToken} µs stack CPU per token → ${pad(`${perToken.toFixed(1)} µs`, 9)}  ${check(perToken <= GOALS.cpuMicrosPerToken)}`,
  ];
}
