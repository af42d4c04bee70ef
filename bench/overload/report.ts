/**
 * The printed report: the settings and offered rates, one column per policy, the goals of ours and its
 * ratios against the two straw men measured in the same run.
 */
import type { PolicySummary } from './analyze';
import { type BenchConfig, capacityPerSecond, meanServiceSeconds, type PolicyName } from './config';

const pct = (value: number, digits = 1) =>
  Number.isFinite(value) ? `${(value * 100).toFixed(digits)} %` : '–';

const secs = (ms: number) => {
  if (Number.isNaN(ms)) return '–';
  if (!Number.isFinite(ms)) return 'timed out';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
};

const times = (value: number) => {
  if (Number.isNaN(value)) return '–';
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '∞×';
};

export interface Goal {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean;
}

export interface Comparison {
  readonly against: PolicyName;
  readonly name: string;
  /** How many times better ours is (> 1 = better). */
  readonly factor: number;
  readonly ours: string;
  readonly theirs: string;
}

export function goalsOf(ours: PolicySummary, config: BenchConfig): Goal[] {
  const o = ours.overload;
  return [
    {
      name: 'premium admitted during overload',
      target: '≥ 99.9 %',
      value: `${pct(o.premium.admittedRate, 2)} (${o.premium.admitted}/${o.premium.offered})`,
      met: o.premium.admittedRate >= 0.999,
    },
    {
      name: 'fleet busy during overload (Σrunning/Σslots)',
      target: '≥ 95 %',
      value: pct(ours.utilisation),
      met: ours.utilisation >= 0.95,
    },
    {
      name: 'admitted TTFT p99 during overload',
      target: `≤ ${secs(config.ttftObjectiveMs)}`,
      value: secs(o.ttftP99Ms),
      met: o.ttftP99Ms <= config.ttftObjectiveMs,
    },
  ];
}

/** Ours against each straw man, on the measure each of them fails. Factor > 1: ours is better. */
export function comparisonsOf(summaries: readonly PolicySummary[]): Comparison[] {
  const ours = summaries.find((summary) => summary.policy === 'load_based');
  if (!ours) return [];
  const out: Comparison[] = [];
  const lowerIsBetter = (
    against: PolicyName,
    name: string,
    mine: number,
    theirs: number,
    show: (v: number) => string,
  ) => out.push({ against, name, factor: theirs / mine, ours: show(mine), theirs: show(theirs) });
  const higherIsBetter = (
    against: PolicyName,
    name: string,
    mine: number,
    theirs: number,
    show: (v: number) => string,
  ) => out.push({ against, name, factor: mine / theirs, ours: show(mine), theirs: show(theirs) });
  const all = summaries.find((summary) => summary.policy === 'admit_all');
  if (all) {
    lowerIsBetter('admit_all', 'admitted TTFT p99', ours.overload.ttftP99Ms, all.overload.ttftP99Ms, secs);
    lowerIsBetter(
      'admit_all',
      'premium TTFT p99',
      ours.overload.premium.ttftP99Ms,
      all.overload.premium.ttftP99Ms,
      secs,
    );
    higherIsBetter(
      'admit_all',
      'premium success',
      ours.overload.premium.successRate,
      all.overload.premium.successRate,
      pct,
    );
    higherIsBetter(
      'admit_all',
      'goodput (≤ 2 s TTFT, /s)',
      ours.overload.goodputPerSecond,
      all.overload.goodputPerSecond,
      (v) => v.toFixed(2),
    );
  }
  const reserved = summaries.find((summary) => summary.policy === 'static_reservation');
  if (reserved) {
    higherIsBetter('static_reservation', 'fleet utilisation', ours.utilisation, reserved.utilisation, pct);
    higherIsBetter(
      'static_reservation',
      'premium success',
      ours.overload.premium.successRate,
      reserved.overload.premium.successRate,
      pct,
    );
    higherIsBetter(
      'static_reservation',
      'free success',
      ours.overload.free.successRate,
      reserved.overload.free.successRate,
      pct,
    );
    higherIsBetter(
      'static_reservation',
      'goodput (≤ 2 s TTFT, /s)',
      ours.overload.goodputPerSecond,
      reserved.overload.goodputPerSecond,
      (v) => v.toFixed(2),
    );
  }
  return out;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

const returnTime = (seconds: number | null) => (seconds === null ? 'never' : `${seconds.toFixed(0)} s`);

export function settingsText(config: BenchConfig): string {
  const { fleet, phases } = config;
  const capacity = capacityPerSecond(fleet);
  const service = meanServiceSeconds(fleet);
  const inherited = Object.entries(config.inheritedKnobs);
  const knobs =
    inherited.length === 0
      ? 'product defaults (SHED_FREE_AT 0.8, SATURATED_AT 1.0, HEARTBEAT_INTERVAL_SECONDS 1, FIRST_TOKEN_TIMEOUT_MS 15000)'
      : `from the environment ${inherited.map(([name, value]) => `${name}=${value}`).join(' ')}, else product defaults`;
  return [
    `Fleet: ${fleet.servers} servers × ${fleet.slots} slots, ${fleet.tokensPerSecond} tokens/s, ${fleet.answerTokens}-token answers, ${fleet.ttftMs} ms prefill, unbounded server queues`,
    `Mean service time ${service.toFixed(2)} s → capacity ${capacity.toFixed(2)} prompts/s (servers × slots / service time)`,
    `Load (open-loop Poisson, first attempts only, ${config.users} users, ${pct(config.premiumShare, 0)} premium, seed ${config.seed}):`,
    `  ${phases.warmSeconds} s at ${phases.lowFactor}× = ${(phases.lowFactor * capacity).toFixed(1)}/s, ramp ${phases.rampSeconds} s, ` +
      `${phases.holdSeconds} s at ${phases.overloadFactor}× = ${(phases.overloadFactor * capacity).toFixed(1)}/s (overload window), ` +
      `${phases.recoverySeconds} s at ${phases.lowFactor}× = ${(phases.lowFactor * capacity).toFixed(1)}/s (recovery)`,
    `Knobs: ${knobs}, FREE_COOLDOWN_SECONDS ${config.freeCooldownSeconds}, PREMIUM_RESERVED_SERVERS ${config.reservedServers}` +
      (config.quick ? '  [BENCH_QUICK: short phases and cool-down]' : ''),
  ].join('\n');
}

export function resultsTable(summaries: readonly PolicySummary[], config: BenchConfig): string {
  const column = (f: (summary: PolicySummary) => string) => summaries.map(f);
  const objective = secs(config.ttftObjectiveMs);
  const rows: string[][] = [
    ['Overload window (by send time)', ...column(() => '')],
    [
      '  offered premium / free',
      ...column((s) => `${s.overload.premium.offered} / ${s.overload.free.offered}`),
    ],
    ['  premium admitted', ...column((s) => pct(s.overload.premium.admittedRate, 2))],
    ['  premium success (completed/offered)', ...column((s) => pct(s.overload.premium.successRate, 2))],
    ['  free admitted', ...column((s) => pct(s.overload.free.admittedRate))],
    ['  free success (completed/offered)', ...column((s) => pct(s.overload.free.successRate))],
    ['  fleet utilisation (mean running/slots)', ...column((s) => pct(s.utilisation))],
    ['  samples with every slot busy', ...column((s) => pct(s.fullShare, 0))],
    ['  queued on servers, mean / max', ...column((s) => `${s.meanQueue.toFixed(1)} / ${s.maxQueue}`)],
    [
      '  TTFT p50 / p99, admitted',
      ...column((s) => `${secs(s.overload.ttftP50Ms)} / ${secs(s.overload.ttftP99Ms)}`),
    ],
    [
      '  TTFT p50 / p99, premium',
      ...column((s) => `${secs(s.overload.premium.ttftP50Ms)} / ${secs(s.overload.premium.ttftP99Ms)}`),
    ],
    [
      '  TTFT p50 / p99, free',
      ...column((s) => `${secs(s.overload.free.ttftP50Ms)} / ${secs(s.overload.free.ttftP99Ms)}`),
    ],
    [
      '  admitted, no first token (timeouts)',
      ...column((s) => `${s.overload.premium.noFirstToken + s.overload.free.noFirstToken}`),
    ],
    [
      `  goodput: completed, TTFT ≤ ${objective} (/s)`,
      ...column((s) => s.overload.goodputPerSecond.toFixed(2)),
    ],
    ['Whole run', ...column(() => '')],
    ['  premium success', ...column((s) => pct(s.whole.premium.successRate, 2))],
    ['  free success', ...column((s) => pct(s.whole.free.successRate))],
    ['  TTFT p99, admitted', ...column((s) => secs(s.whole.ttftP99Ms))],
    ['Recovery (after the drop)', ...column(() => '')],
    ['  free back: 5 s window ≥ 90 % admitted', ...column((s) => returnTime(s.freeReturnAdmittedS))],
    [`  free back: ≥ 90 % served (TTFT ≤ ${objective})`, ...column((s) => returnTime(s.freeReturnServedS))],
    ['  free admitted over the recovery', ...column((s) => pct(s.recovery.free.admittedRate))],
    ['Machine (2 cores, shared)', ...column(() => '')],
    ['  CPU busy just before the load', ...column((s) => pct(s.cpu.machineBusyBefore, 0))],
    [
      '  overload: CPU busy / stack / bench cores',
      ...column(
        (s) =>
          `${pct(s.cpu.machineBusy, 0)} / ${s.cpu.stackCores.toFixed(2)} / ${s.cpu.benchCores.toFixed(2)}`,
      ),
    ],
    [
      '  send lateness p99 / max',
      ...column((s) => `${s.schedulerLateP99Ms.toFixed(0)} / ${s.schedulerLateMaxMs.toFixed(0)} ms`),
    ],
  ];
  return table(['', ...summaries.map((summary) => summary.policy)], rows);
}

/** A note when the machine itself was the bottleneck for some policy. */
export function contentionText(summaries: readonly PolicySummary[]): string | undefined {
  const busy = summaries.filter((summary) => summary.cpu.machineBusy >= 0.9);
  if (busy.length === 0) return undefined;
  return (
    `Note: the machine's CPU was ≥ 90 % busy during the overload of ${busy.map((summary) => summary.policy).join(', ')}; ` +
    "latencies there include CPU contention (see the stack / bench columns for this run's own share)."
  );
}

export function goalsText(goals: readonly Goal[], comparisons: readonly Comparison[]): string {
  const lines = ['Goals (load_based):'];
  for (const goal of goals) {
    lines.push(`  ${goal.met ? 'MET   ' : 'MISSED'} ${goal.name}: ${goal.value} (target ${goal.target})`);
  }
  if (comparisons.length > 0) {
    lines.push('load_based vs the straw men (factor > 1 = ours better):');
    for (const comparison of comparisons) {
      lines.push(
        `  vs ${comparison.against.padEnd(18)} ${comparison.name.padEnd(26)} ${times(comparison.factor).padStart(7)}  (ours ${comparison.ours}, theirs ${comparison.theirs})`,
      );
    }
  }
  return lines.join('\n');
}
