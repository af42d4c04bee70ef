/**
 * From one policy's raw run to the figures of the table, the chart's series, and checks that the policy
 * the stack was given is the one it applied.
 */
import type { BenchConfig, PhaseBounds, PolicyName } from './config';
import type { PolicyRun, PromptRecord } from './run';

export interface TierFigures {
  readonly offered: number;
  readonly admitted: number;
  readonly completed: number;
  readonly rejected: number;
  readonly timedOut: number;
  readonly failed: number;
  /** admitted / offered. */
  readonly admittedRate: number;
  /** completed / offered. */
  readonly successRate: number;
  /** Of admitted prompts; a prompt admitted but never given a first token counts as infinitely late. */
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
  /** Admitted prompts that never got a first token. */
  readonly noFirstToken: number;
}

export interface WindowFigures {
  readonly premium: TierFigures;
  readonly free: TierFigures;
  /** Both tiers' admitted prompts. */
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
  /** Completed with a first token within the objective, per second of the window. */
  readonly goodputPerSecond: number;
}

export interface PolicySummary {
  readonly policy: PolicyName;
  readonly overload: WindowFigures;
  readonly whole: WindowFigures;
  readonly recovery: WindowFigures;
  /** Mean Σrunning / Σslots over the fleet samples of the overload window. */
  readonly utilisation: number;
  /** Share of overload samples with every slot busy. */
  readonly fullShare: number;
  /** Mean Σwaiting over the overload window (prompts queued on the servers). */
  readonly meanQueue: number;
  readonly maxQueue: number;
  /** Seconds from the drop to the first 5 s window with ≥ 90 % of free prompts admitted; null = never. */
  readonly freeReturnAdmittedS: number | null;
  /** Same, with ≥ 90 % of free prompts completed within the TTFT objective. */
  readonly freeReturnServedS: number | null;
  readonly schedulerLateP99Ms: number;
  readonly schedulerLateMaxMs: number;
  readonly cpu: {
    /** All cores, just before the load: other work on the shared machine. */
    readonly machineBusyBefore: number;
    readonly machineBusy: number;
    readonly stackCores: number;
    readonly benchCores: number;
    readonly benchLoopP99MaxMs: number;
  };
  readonly errorCodes: Record<string, number>;
  readonly checks: string[];
}

export interface SeriesPoint {
  readonly t: number;
  readonly offered: number;
  readonly completedPremium: number;
  readonly completedFree: number;
  /** Admitted, then timed out or failed. */
  readonly lost: number;
  readonly rejectedFree: number;
  readonly rejectedPremium: number;
}

export interface TtftPoint {
  readonly t: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly count: number;
}

export interface PolicySeries {
  readonly perSecond: SeriesPoint[];
  readonly ttft: TtftPoint[];
  /** Fleet samples reduced to [t, utilisation, queued]. */
  readonly fleet: [number, number, number][];
}

/** Nearest-rank percentile; Infinity entries are values too. NaN for an empty list. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

const isAdmitted = (record: PromptRecord) => record.result.outcome !== 'rejected';
const ttftOf = (record: PromptRecord) => record.result.ttftMs ?? Number.POSITIVE_INFINITY;
const ratio = (part: number, whole: number) => (whole === 0 ? Number.NaN : part / whole);

function tierFigures(records: readonly PromptRecord[]): TierFigures {
  const count = (outcome: string) => records.filter((record) => record.result.outcome === outcome).length;
  const admitted = records.filter(isAdmitted);
  const ttfts = admitted.map(ttftOf).sort((a, b) => a - b);
  const completed = count('completed');
  return {
    offered: records.length,
    admitted: admitted.length,
    completed,
    rejected: count('rejected'),
    timedOut: count('timeout'),
    failed: count('failed'),
    admittedRate: ratio(admitted.length, records.length),
    successRate: ratio(completed, records.length),
    ttftP50Ms: percentile(ttfts, 50),
    ttftP99Ms: percentile(ttfts, 99),
    noFirstToken: admitted.filter((record) => record.result.ttftMs === undefined).length,
  };
}

function windowFigures(
  records: readonly PromptRecord[],
  seconds: number,
  objectiveMs: number,
): WindowFigures {
  const ttfts = records
    .filter(isAdmitted)
    .map(ttftOf)
    .sort((a, b) => a - b);
  const good = records.filter(
    (record) => record.result.outcome === 'completed' && ttftOf(record) <= objectiveMs,
  ).length;
  return {
    premium: tierFigures(records.filter((record) => record.premium)),
    free: tierFigures(records.filter((record) => !record.premium)),
    ttftP50Ms: percentile(ttfts, 50),
    ttftP99Ms: percentile(ttfts, 99),
    goodputPerSecond: seconds > 0 ? good / seconds : Number.NaN,
  };
}

const inWindow = (records: readonly PromptRecord[], from: number, to: number) =>
  records.filter((record) => record.at >= from && record.at < to);

/** Seconds from `from` to the first `width`-second window (1 s steps) where `ok` holds for ≥ 90 % of free prompts. */
function firstGoodWindow(
  records: readonly PromptRecord[],
  from: number,
  to: number,
  ok: (record: PromptRecord) => boolean,
  width = 5,
): number | null {
  const free = records.filter((record) => !record.premium && record.at >= from && record.at < to);
  for (let start = from; start + width <= to; start += 1) {
    const inside = free.filter((record) => record.at >= start && record.at < start + width);
    if (inside.length === 0) continue;
    if (inside.filter(ok).length / inside.length >= 0.9) return start - from;
  }
  return null;
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;

function fleetPoint(sample: PolicyRun['fleet'][number]): [number, number, number] | undefined {
  if (sample.running.some((value) => value < 0) || sample.slots.some((value) => value <= 0)) return undefined;
  const running = sample.running.reduce((sum, value) => sum + value, 0);
  const slots = sample.slots.reduce((sum, value) => sum + value, 0);
  const waiting = sample.waiting.reduce((sum, value) => sum + Math.max(0, value), 0);
  return [sample.t, running / slots, waiting];
}

export function summarise(config: BenchConfig, bounds: PhaseBounds, run: PolicyRun): PolicySummary {
  const { records } = run;
  const objective = config.ttftObjectiveMs;
  const overloadRecords = inWindow(records, bounds.holdStart, bounds.dropAt);
  const recoveryRecords = inWindow(records, bounds.dropAt, bounds.end);
  const fleet = run.fleet
    .map(fleetPoint)
    .filter((point): point is [number, number, number] => point !== undefined)
    .filter(([t]) => t >= bounds.holdStart && t < bounds.dropAt);
  const late = records.map((record) => (record.sentAt - record.at) * 1000).sort((a, b) => a - b);
  const cpu = run.cpu.filter((sample) => sample.t >= bounds.holdStart && sample.t < bounds.dropAt);

  const errorCodes: Record<string, number> = {};
  for (const record of records) {
    if (record.result.outcome === 'completed') continue;
    const key = `${record.result.outcome}:${record.result.status}${record.result.code ? `:${record.result.code}` : ''}`;
    errorCodes[key] = (errorCodes[key] ?? 0) + 1;
  }

  const checks: string[] = [];
  const rejected = records.filter((record) => record.result.outcome === 'rejected').length;
  if (run.policy === 'admit_all' && rejected > 0) {
    checks.push(
      `admit_all refused ${rejected} prompts (503 overloaded): the stack did not apply ADMISSION_POLICY=admit_all`,
    );
  }
  if (run.policy === 'static_reservation') {
    const reserved = [...run.serverIds].sort().slice(0, config.reservedServers);
    const freeOnReserved = reserved.reduce((sum, id) => sum + (run.firstTokens.free?.[id] ?? 0), 0);
    if (freeOnReserved > 0) {
      checks.push(
        `static_reservation sent ${freeOnReserved} free prompts to the premium-only server(s) ${reserved.join(', ')}: the stack did not apply the reservation`,
      );
    }
  }

  return {
    policy: run.policy,
    overload: windowFigures(overloadRecords, bounds.dropAt - bounds.holdStart, objective),
    recovery: windowFigures(recoveryRecords, bounds.end - bounds.dropAt, objective),
    whole: windowFigures(records, bounds.end, objective),
    utilisation: mean(fleet.map(([, utilisation]) => utilisation)),
    fullShare: ratio(fleet.filter(([, utilisation]) => utilisation >= 0.999).length, fleet.length),
    meanQueue: mean(fleet.map(([, , queued]) => queued)),
    maxQueue: fleet.reduce((max, [, , queued]) => Math.max(max, queued), 0),
    freeReturnAdmittedS: firstGoodWindow(records, bounds.dropAt, bounds.end, isAdmitted),
    freeReturnServedS: firstGoodWindow(
      records,
      bounds.dropAt,
      bounds.end,
      (record) => record.result.outcome === 'completed' && ttftOf(record) <= objective,
    ),
    schedulerLateP99Ms: percentile(late, 99),
    schedulerLateMaxMs: late.at(-1) ?? Number.NaN,
    cpu: {
      machineBusyBefore: run.machineBusyBefore,
      machineBusy: mean(cpu.map((sample) => sample.machine)),
      stackCores: mean(cpu.map((sample) => sample.stack)),
      benchCores: mean(cpu.map((sample) => sample.bench)),
      benchLoopP99MaxMs: cpu.reduce((max, sample) => Math.max(max, sample.benchLoopP99Ms), 0),
    },
    errorCodes,
    checks,
  };
}

export function seriesOf(bounds: PhaseBounds, run: PolicyRun, ttftBinSeconds = 2): PolicySeries {
  const seconds = Math.ceil(bounds.end);
  const perSecond: SeriesPoint[] = Array.from({ length: seconds }, (_, t) => ({
    t,
    offered: 0,
    completedPremium: 0,
    completedFree: 0,
    lost: 0,
    rejectedFree: 0,
    rejectedPremium: 0,
  }));
  const mutable = perSecond as {
    -readonly [K in keyof SeriesPoint]: SeriesPoint[K];
  }[];
  const ttftBins: number[][] = Array.from({ length: Math.ceil(seconds / ttftBinSeconds) }, () => []);
  for (const record of run.records) {
    const bin = mutable[Math.floor(record.at)];
    if (!bin) continue;
    bin.offered++;
    const { outcome } = record.result;
    if (outcome === 'completed') {
      if (record.premium) bin.completedPremium++;
      else bin.completedFree++;
    } else if (outcome === 'rejected') {
      if (record.premium) bin.rejectedPremium++;
      else bin.rejectedFree++;
    } else {
      bin.lost++;
    }
    if (isAdmitted(record)) ttftBins[Math.floor(record.at / ttftBinSeconds)]?.push(ttftOf(record));
  }
  const ttft = ttftBins.map((values, index) => {
    const sorted = values.sort((a, b) => a - b);
    return {
      t: index * ttftBinSeconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      count: sorted.length,
    };
  });
  const fleet = run.fleet
    .map(fleetPoint)
    .filter((point): point is [number, number, number] => point !== undefined)
    .map(([t, utilisation, queued]): [number, number, number] => [
      Math.round(t * 100) / 100,
      Math.round(utilisation * 1000) / 1000,
      queued,
    ]);
  return { perSecond, ttft, fleet };
}
