/**
 * `npm run bench:overload`: the overload benchmark. Drives the real local stack (spawned local/main.ts:
 * gateway, handlers, emulators, simulated fleet) over HTTP with an open-loop Poisson load of many users,
 * ramped to 3× the fleet's capacity for a minute then dropped to 0.5×, once per admission policy
 * (admit_all, static_reservation, load_based), each on a fresh stack with the same fleet and the same
 * arrivals. Prints a table; writes bench/results/overload-<timestamp>.{json,svg,png} and latest.*.
 *
 * BENCH_QUICK=1 for a smoke run (short phases, 15 s cool-down). See bench/overload/config.ts for the
 * other settings. Loopback only; bounded: it ends by itself after the phases and a drain.
 * BENCH_RENDER=bench/results/<file>.json prints the table and redraws the chart of a stored result.
 */
import { spawn } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PolicySeries, type PolicySummary, seriesOf, summarise } from './overload/analyze';
import { arrivalSchedule, PROMPTS } from './overload/arrivals';
import { renderChart } from './overload/chart';
import type { ChartPanel } from './overload/chart-rows';
import {
  type BenchConfig,
  benchConfigFromEnv,
  capacityPerSecond,
  meanServiceSeconds,
  type PhaseBounds,
  phaseBounds,
} from './overload/config';
import {
  comparisonsOf,
  contentionText,
  goalsOf,
  goalsText,
  resultsTable,
  settingsText,
} from './overload/report';
import { type ModeChange, type PolicyRun, runPolicy } from './overload/run';
import { isPremiumUser } from './overload/users';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');
const CHROMIUM = '/usr/bin/chromium';

const say = (message: string) => process.stdout.write(`${message}\n`);

/** Renders the SVG to PNG with headless Chromium, when it is installed; false otherwise. */
async function renderPng(svgFile: string, pngFile: string, width: number, height: number): Promise<boolean> {
  try {
    await access(CHROMIUM);
  } catch {
    return false;
  }
  const profile = await mkdtemp(join(tmpdir(), 'bench-chromium-'));
  try {
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      `--screenshot=${pngFile}`,
      `file://${svgFile}`,
    ];
    const code = await new Promise<number | null>((done) => {
      const child = spawn(CHROMIUM, args, { stdio: 'ignore' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        done(exitCode);
      });
      child.on('error', () => {
        clearTimeout(timer);
        done(-1);
      });
    });
    if (code !== 0) return false;
    await access(pngFile);
    return true;
  } catch {
    return false;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

const round = (value: number, digits = 4) =>
  Number.isFinite(value)
    ? Math.round(value * 10 ** digits) / 10 ** digits
    : value === Infinity
      ? 'Infinity'
      : null;

/** JSON has no Infinity / NaN: write them as "Infinity" / null. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' ? round(value) : value;
}

async function main(): Promise<void> {
  const config = benchConfigFromEnv();
  const capacity = capacityPerSecond(config.fleet);
  const bounds = phaseBounds(config.phases);
  const arrivals = arrivalSchedule(config.phases, capacity, config.users, PROMPTS.length, config.seed);
  const premiumArrivals = arrivals.filter((arrival) =>
    isPremiumUser(arrival.user, config.premiumShare),
  ).length;
  say(settingsText(config));
  say(
    `Arrivals: ${arrivals.length} prompts per policy (${premiumArrivals} premium), ${config.policies.length} policies, ` +
      `~${Math.ceil((bounds.end + 30) / 60) * config.policies.length} min of load plus set-up`,
  );

  // Bounded whatever happens: each policy gets its phases, the drain and set-up, then the run gives up.
  const deadlineMs = config.policies.length * (bounds.end + config.clientTimeoutMs / 1000 + 240) * 1000;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:overload: still running after ${deadlineMs / 1000} s, giving up\n`);
    process.exit(2);
  }, deadlineMs);
  watchdog.unref();

  const runs: PolicyRun[] = [];
  for (const policy of config.policies) {
    say(`\n=== ${policy} ===`);
    runs.push(await runPolicy(config, policy, arrivals));
  }

  const summaries: PolicySummary[] = runs.map((run) => summarise(config, bounds, run));
  const goals = summaries.some((summary) => summary.policy === 'load_based')
    ? goalsOf(summaries.find((summary) => summary.policy === 'load_based') as PolicySummary, config)
    : [];
  const comparisons = comparisonsOf(summaries);

  say(`\n${settingsText(config)}\n`);
  say(resultsTable(summaries, config));
  say('');
  if (goals.length > 0) say(goalsText(goals, comparisons));
  const contention = contentionText(summaries);
  if (contention) say(`\n${contention}`);
  const checks = summaries.flatMap((summary) => summary.checks);
  if (checks.length > 0) {
    say('\nPOLICY CHECKS FAILED (the straw-man figures do not measure the policy named):');
    for (const check of checks) say(`  - ${check}`);
  }

  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z');
  const base = join(RESULTS_DIR, `overload-${stamp}${config.quick ? '-quick' : ''}`);
  const series = runs.map((run) => seriesOf(bounds, run));
  const result = {
    createdAt: new Date().toISOString(),
    quick: config.quick,
    config,
    fleet: {
      ...config.fleet,
      meanServiceSeconds: meanServiceSeconds(config.fleet),
      capacityPerSecond: capacity,
    },
    offeredPerSecond: {
      low: config.phases.lowFactor * capacity,
      overload: config.phases.overloadFactor * capacity,
    },
    phases: bounds,
    arrivals: { total: arrivals.length, premium: premiumArrivals },
    goals,
    comparisons,
    checks,
    promptFields: [
      'planned_s',
      'sent_s',
      'premium',
      'outcome',
      'status',
      'ttft_ms',
      'total_ms',
      'code',
      'server',
    ],
    policies: runs.map((run, index) => ({
      policy: run.policy,
      env: run.env,
      setupSeconds: run.setupSeconds,
      machineBusyBefore: run.machineBusyBefore,
      summary: summaries[index],
      modes: run.modes,
      firstTokensByTierAndServer: run.firstTokens,
      serverTotals: run.serverTotals,
      series: series[index],
      cpu: run.cpu,
      /** [planned s, sent s, premium 0/1, outcome, status, ttft ms | null, total ms, code | null, server | null] */
      prompts: run.records.map((record) => [
        Math.round(record.at * 1000) / 1000,
        Math.round(record.sentAt * 1000) / 1000,
        record.premium ? 1 : 0,
        record.result.outcome,
        record.result.status,
        record.result.ttftMs === undefined ? null : Math.round(record.result.ttftMs),
        Math.round(record.result.totalMs),
        record.result.code ?? null,
        record.server ?? null,
      ]),
    })),
  };
  await writeFile(`${base}.json`, `${JSON.stringify(result, jsonReplacer)}\n`);
  await copyFile(`${base}.json`, join(RESULTS_DIR, 'latest.json'));

  await writeChart(config, bounds, panelsOf(runs, summaries, series), base);
}

function panelsOf(
  runs: readonly PolicyRun[],
  summaries: readonly PolicySummary[],
  series: readonly PolicySeries[],
): ChartPanel[] {
  return runs.map((run, index) => ({
    summary: summaries[index] as PolicySummary,
    series: series[index] ?? { perSecond: [], ttft: [], fleet: [] },
    modes: run.modes,
  }));
}

/** Writes `<base>.svg` (and `.png` when Chromium is there) and copies them to latest.*. */
async function writeChart(
  config: BenchConfig,
  bounds: PhaseBounds,
  panels: ChartPanel[],
  base: string,
  updateLatest = true,
): Promise<void> {
  const capacity = capacityPerSecond(config.fleet);
  const { phases, fleet } = config;
  const inherited = Object.entries(config.inheritedKnobs);
  const knobs =
    inherited.length === 0 ? '' : ` · ${inherited.map(([name, value]) => `${name}=${value}`).join(' ')}`;
  const svg = renderChart({
    title: `Overload: ${phases.overloadFactor}× the fleet's capacity for ${phases.holdSeconds} s, then ${phases.lowFactor}×${config.quick ? ' (quick run)' : ''}`,
    subtitle:
      `${fleet.servers} servers × ${fleet.slots} slots, ${meanServiceSeconds(fleet).toFixed(2)} s per answer → ` +
      `capacity ${capacity.toFixed(1)} prompts/s; offered ${(phases.lowFactor * capacity).toFixed(1)} → ` +
      `${(phases.overloadFactor * capacity).toFixed(1)} → ${(phases.lowFactor * capacity).toFixed(1)}/s, ` +
      `${config.users} users (${Math.round(config.premiumShare * 100)} % premium), first attempts only, same arrivals for every policy` +
      knobs,
    bounds,
    capacity,
    objectiveMs: config.ttftObjectiveMs,
    panels,
  });
  await writeFile(`${base}.svg`, svg);
  if (updateLatest) await copyFile(`${base}.svg`, join(RESULTS_DIR, 'latest.svg'));
  const size = /width="(\d+)" height="(\d+)"/.exec(svg);
  const png = await renderPng(
    resolve(`${base}.svg`),
    resolve(`${base}.png`),
    Number(size?.[1] ?? 1500),
    Number(size?.[2] ?? 900),
  );
  if (png && updateLatest) await copyFile(`${base}.png`, join(RESULTS_DIR, 'latest.png'));
  say(
    `\nWrote ${updateLatest ? `${base}.json, ` : ''}${base}.svg` +
      `${png ? `, ${base}.png` : ' (no PNG: chromium not found or failed)'}${updateLatest ? ' and latest.*' : ''}`,
  );
}

/** BENCH_RENDER=<result.json>: the table and the chart again from a stored result, without a run. */
async function renderStored(file: string): Promise<void> {
  const stored = JSON.parse(await readFile(file, 'utf8'), (_key, value: unknown) =>
    value === 'Infinity' ? Number.POSITIVE_INFINITY : value === null ? Number.NaN : value,
  ) as {
    config: BenchConfig;
    policies: { summary: PolicySummary; series: PolicySeries; modes: ModeChange[] }[];
  };
  // Results written before the knobs were recorded have none.
  const config: BenchConfig = { ...stored.config, inheritedKnobs: stored.config.inheritedKnobs ?? {} };
  const summaries = stored.policies.map((policy) => policy.summary);
  say(`${settingsText(config)}\n`);
  say(resultsTable(summaries, config));
  const ours = summaries.find((summary) => summary.policy === 'load_based');
  if (ours) say(`\n${goalsText(goalsOf(ours, config), comparisonsOf(summaries))}`);
  await writeChart(
    config,
    phaseBounds(config.phases),
    stored.policies.map((policy) => ({
      summary: policy.summary,
      series: policy.series,
      modes: policy.modes,
    })),
    file.replace(/\.json$/, ''),
    false,
  );
}

const renderFile = process.env.BENCH_RENDER?.trim();
(renderFile ? renderStored(renderFile) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench:overload failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
