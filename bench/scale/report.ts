/** The simulation's report: headline figures, goals with pass/fail, a table per scenario, and the JSON. */
import type { SimConfig } from './config';
import type { ScenarioResult } from './scenario';
import type { RealSettings } from './world';

export interface Goal {
  readonly name: string;
  readonly target: string;
  readonly value: number | undefined;
  readonly pass: boolean;
}

const PARTITION_READ_UNITS = 3000;
const PARTITION_WRITE_UNITS = 1000;
const MAX_ITEM_GOAL_BYTES = 100 * 1024;
/** What the figures assume: printed under the table and kept in the JSON. */
export const MODEL_NOTES: readonly string[] = [
  'DynamoDB partitions: each partition-key value is its own partition (3,000 RCU/s, 1,000 WCU/s per virtual ' +
    'second): the best case of adaptive capacity, whose split-for-heat isolates hot items, but a single item ' +
    'can never exceed one partition, so one hot item is a hard ceiling.',
  'The model answers the adapters directly: no SDK retries (the real client retries throttling and 5xx).',
  'Lambda: a new container is created at once, without cold-start time or the account concurrency quota and ' +
    'its +1,000 environments per 10 s scaling rate (see the scale-up line).',
  'A send to a server is instantaneous (a 503 costs no round trip); vLLM KV preemption is not modelled.',
  'Chat containers share decoded views per stored version (bench/scale/shared-views.ts); SIM_REAL_VIEWS=1 ' +
    'decodes every read with the real getView.',
];

/** Lambda adds at most 1,000 execution environments per 10 s per function. */
const LAMBDA_SCALE_PER_10S = 1000;

export function headline(
  results: readonly ScenarioResult[],
  config: SimConfig,
  settings: RealSettings,
  wallMs: number,
) {
  const main = results.find((r) => r.name === 'main');
  const outage = results.find((r) => r.name === 'outage');
  const maxOf = (pick: (r: ScenarioResult) => number) => Math.max(0, ...results.map(pick));
  const hottestRead = maxOf((r) => r.dynamo.hottestRead.units);
  const hottestWrite = maxOf((r) => r.dynamo.hottestWrite.units);
  const chatUnits = results.reduce((sum, r) => sum + r.dynamo.chatReadUnits, 0);
  const admissions = results.reduce((sum, r) => sum + r.dynamo.admissions, 0);
  const peakContainers = maxOf((r) => r.containers.peak);
  const full = config.servers === config.fullScale.servers && config.secondsScale === 1;
  return {
    generated_at: new Date().toISOString(),
    wall_time_s: round(wallMs / 1000, 1),
    scale: {
      full,
      note: full
        ? 'full scale: 2,300 servers, 5,800 prompts/s, phases of the brief'
        : `reduced: ${config.servers} servers (${round(config.baseRate, 1)} prompts/s base), phases × ${config.secondsScale}`,
    },
    servers: config.servers,
    shards: config.shards,
    containers: peakContainers,
    containers_created: maxOf((r) => r.containers.created),
    lambda_scale_up_seconds: Math.ceil(peakContainers / LAMBDA_SCALE_PER_10S) * 10,
    peak_admissions_per_s: main?.peakAdmissionsPerSecond,
    premium_admitted_ratio: main?.measured.premiumRatio,
    free_admitted_ratio: main?.measured.freeRatio,
    fleet_busy_ratio_overload: main?.fleetBusyBurst,
    ttft_p50_ms_admitted: main?.measured.ttftP50Ms,
    ttft_p99_ms_admitted: main?.measured.ttftP99Ms,
    admission_p99_ms: main?.measured.admissionP99Ms,
    hottest_partition_read_ratio: hottestRead / PARTITION_READ_UNITS,
    hottest_partition_write_ratio: hottestWrite / PARTITION_WRITE_UNITS,
    hottest_partition_read: results.map((r) => ({ scenario: r.name, ...r.dynamo.hottestRead })),
    hottest_partition_write: results.map((r) => ({ scenario: r.name, ...r.dynamo.hottestWrite })),
    throttled_requests: results.reduce((sum, r) => sum + r.dynamo.throttled, 0),
    largest_item_bytes: maxOf((r) => r.dynamo.largestItem.bytes),
    heartbeat_scrape_ms_p99: maxOf((r) => r.heartbeat.scrapeP99Ms),
    rcu_per_admission: admissions === 0 ? 0 : chatUnits / admissions,
    outage: outage?.outage
      ? {
          premium_admitted_ratio: outage.outage.premiumRatio,
          free_admitted_ratio: outage.outage.freeRatio,
          servers_over_safe_ratio: outage.outage.serversOverSafeRatio,
          servers_at_bound_ratio: outage.outage.serversAtBoundRatio,
          servers_sent_prompt_over_safe_ratio: outage.outage.serversSentOverSafeRatio,
        }
      : undefined,
    notes: MODEL_NOTES,
    settings: {
      heartbeat_interval_ms: settings.intervalMs,
      premium_wait_ms: settings.premiumWaitMs,
      tick_timeout_ms: settings.tickTimeoutMs,
      probe_timeout_ms: settings.probeTimeoutMs,
      registry_refresh_ms: settings.registryRefreshMs,
      policy: settings.policy,
      seed: config.seed,
      outage_mode: config.outageMode,
      kv_admission: config.kvAdmission,
      time_quantum_ms: config.timeQuantumMs,
    },
  };
}

export type Headline = ReturnType<typeof headline>;

export function goalsOf(h: Headline): Goal[] {
  const goal = (
    name: string,
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
  ): Goal => ({
    name,
    target,
    value,
    pass: value !== undefined && ok(value),
  });
  return [
    goal('premium_admitted_ratio', '>= 0.999', h.premium_admitted_ratio, (v) => v >= 0.999),
    goal('fleet_busy_ratio_overload', '>= 0.95', h.fleet_busy_ratio_overload, (v) => v >= 0.95),
    goal('ttft_p99_ms_admitted', '<= 2000', h.ttft_p99_ms_admitted, (v) => v <= 2000),
    goal('hottest_partition_read_ratio', '<= 0.5', h.hottest_partition_read_ratio, (v) => v <= 0.5),
    goal('hottest_partition_write_ratio', '<= 0.5', h.hottest_partition_write_ratio, (v) => v <= 0.5),
    goal('largest_item_bytes', '<= 102400', h.largest_item_bytes, (v) => v <= MAX_ITEM_GOAL_BYTES),
    goal('rcu_per_admission', '<= 1', h.rcu_per_admission, (v) => v <= 1),
    goal('outage.premium_admitted_ratio', '>= 0.99', h.outage?.premium_admitted_ratio, (v) => v >= 0.99),
    goal('outage.servers_over_safe_ratio', '= 0', h.outage?.servers_over_safe_ratio, (v) => v === 0),
    goal(
      'outage.servers_sent_prompt_over_safe_ratio',
      '= 0',
      h.outage?.servers_sent_prompt_over_safe_ratio,
      (v) => v === 0,
    ),
  ];
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

const pct = (v: number | undefined, digits = 2) => (v === undefined ? '—' : `${(v * 100).toFixed(digits)} %`);
const num = (v: number | undefined, digits = 0) =>
  v === undefined
    ? '—'
    : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows
    .map((row, r) => {
      const line = row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ');
      return r === 0 ? `${line}\n${widths.map((w) => '─'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

const topReasons = (refused: Record<string, number>) =>
  Object.entries(refused)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ') || '—';

export function scenarioText(result: ScenarioResult): string {
  const rows: string[][] = [
    [
      'phase',
      'rate/s',
      'premium',
      'free',
      'ttft p50',
      'ttft p99',
      'busy',
      'occupied',
      'failover',
      'at bound',
      'over safe',
      'view load',
      'free ratio',
      'modes (shard·s)',
    ],
  ];
  for (const p of result.phases) {
    rows.push([
      p.name,
      num(p.rate),
      pct(p.premiumRatio),
      pct(p.freeRatio),
      `${num(p.ttftP50Ms)} ms`,
      `${num(p.ttftP99Ms)} ms`,
      pct(p.busyMean, 1),
      pct(p.occupancyMean, 1),
      num(p.failovers),
      pct(p.serversAtBoundRatio, 1),
      pct(p.serversOverSafeRatio, 2),
      num(p.viewSmoothedLoad, 3),
      num(p.viewFreeRatio, 3),
      Object.entries(p.modes)
        .map(([mode, n]) => `${mode} ${n}`)
        .join(', '),
    ]);
  }
  const refusals = result.phases
    .map(
      (p) => `  ${p.name}: premium [${topReasons(p.refused.premium)}]; free [${topReasons(p.refused.free)}]`,
    )
    .join('\n');
  const errors = result.phases.flatMap((p) =>
    Object.entries(p.errors).map(([e, n]) => `  ${p.name}: ${e} × ${n}`),
  );
  return [
    `Scenario ${result.name}: ${num(result.virtualSeconds, 1)} virtual s in ${num(result.wallMs / 1000, 1)} s wall, ${num(result.events)} events`,
    table(rows),
    'Refusals by reason:',
    refusals,
    ...(errors.length > 0 ? ['Errors (not refusals):', ...errors] : []),
    `Heartbeat: ${num(result.heartbeat.ticks)} ticks, failed ${JSON.stringify(result.heartbeat.failures)}, scrape p50 ${num(result.heartbeat.scrapeP50Ms, 1)} ms / p99 ${num(result.heartbeat.scrapeP99Ms, 1)} ms, tick p99 ${num(result.heartbeat.tickP99Ms, 1)} ms`,
    `Containers: peak ${num(result.containers.peak)}, created ${num(result.containers.created)}; unresolved prompts at the end ${result.measured.unresolved}; servers whose KV passed 100 % ${result.kvOverflowServers}`,
  ].join('\n');
}

export function headlineText(h: Headline, goals: readonly Goal[]): string {
  const rows: string[][] = [['figure', 'value']];
  const add = (name: string, value: string) => rows.push([name, value]);
  add('scale', h.scale.note);
  add('servers / shards', `${num(h.servers)} / ${h.shards}`);
  add('containers (peak / created)', `${num(h.containers)} / ${num(h.containers_created)}`);
  add('Lambda scale-up to that peak', `≥ ${num(h.lambda_scale_up_seconds)} s at +1,000 per 10 s`);
  add('peak admissions per s', num(h.peak_admissions_per_s));
  add(
    'premium / free admitted (main)',
    `${pct(h.premium_admitted_ratio, 3)} / ${pct(h.free_admitted_ratio)}`,
  );
  add('fleet busy during the burst', pct(h.fleet_busy_ratio_overload));
  add('TTFT admitted p50 / p99', `${num(h.ttft_p50_ms_admitted)} ms / ${num(h.ttft_p99_ms_admitted)} ms`);
  add('admission time p99', `${num(h.admission_p99_ms, 1)} ms`);
  add(
    'hottest partition read / write',
    `${pct(h.hottest_partition_read_ratio)} / ${pct(h.hottest_partition_write_ratio)}`,
  );
  add('throttled DynamoDB requests', num(h.throttled_requests));
  add('largest item', `${num(h.largest_item_bytes)} bytes`);
  add('heartbeat scrape p99 (per tick)', `${num(h.heartbeat_scrape_ms_p99, 1)} ms`);
  add('RCU per admission (chat)', num(h.rcu_per_admission, 3));
  if (h.outage) {
    add(
      'outage premium / free admitted',
      `${pct(h.outage.premium_admitted_ratio, 3)} / ${pct(h.outage.free_admitted_ratio)}`,
    );
    add(
      'outage servers over safe / at bound',
      `${pct(h.outage.servers_over_safe_ratio)} / ${pct(h.outage.servers_at_bound_ratio)}`,
    );
    add('outage servers sent a prompt while over safe', pct(h.outage.servers_sent_prompt_over_safe_ratio));
  }
  add('wall time', `${num(h.wall_time_s, 1)} s`);
  const goalRows: string[][] = [['goal', 'target', 'value', 'result']];
  for (const g of goals) {
    goalRows.push([
      g.name,
      g.target,
      g.value === undefined ? '—' : String(round(g.value, 4)),
      g.pass ? 'PASS' : 'FAIL',
    ]);
  }
  const failed = goals.filter((g) => !g.pass).map((g) => g.name);
  return [
    table(rows),
    '',
    ...h.notes.map((note) => `Note: ${note}`),
    '',
    table(goalRows),
    '',
    failed.length === 0 ? 'All goals met.' : `GOALS FAILED (${failed.length}): ${failed.join(', ')}`,
  ].join('\n');
}
