/**
 * Runs one scenario in virtual time: the heartbeat workers tick (each with its own phase), Poisson arrivals
 * follow the phases' rates, every prompt runs through a chat container's real FleetGate to a simulated
 * server, and samplers read the servers directly once a virtual second.
 */
import { fleetTable } from '../../lib/resources';
import type { Phase, ScenarioSpec, SimConfig } from './config';
import { type Prompt, servePrompt } from './containers';
import type { PartitionPeak } from './dynamodb-model';
import { runWorkerLoop } from './heartbeat-loop';
import { lognormalMuForMean } from './random';
import {
  defaultServerConfig,
  MAX_ANSWER_TOKENS,
  MEAN_ANSWER_TOKENS,
  MEAN_PROMPT_TOKENS,
} from './server-model';
import { combine, type PhaseStats, ScenarioStats } from './stats';
import { buildWorld, type RealSettings, type World } from './world';

const PROMPT_SIGMA = 0.9;
const ANSWER_SIGMA = 0.7;
/** After the last arrival: time for held prompts to be answered and queued ones to start. */
const SETTLE_MS = 20_000;

export interface PhaseSummary {
  readonly name: string;
  readonly seconds: number;
  readonly rate: number;
  readonly arrivals: { premium: number; free: number };
  readonly admitted: { premium: number; free: number };
  readonly premiumRatio: number;
  readonly freeRatio: number;
  readonly refused: PhaseStats['refused'];
  readonly errors: Record<string, number>;
  readonly failovers: number;
  readonly ttftP50Ms: number;
  readonly ttftP99Ms: number;
  readonly ttftP99PremiumMs: number;
  readonly admissionP99Ms: number;
  readonly busyMean: number;
  readonly occupancyMean: number;
  readonly modes: Record<string, number>;
  /** Means over the phase of the stored views' free admit ratio and smoothed fleet load (what the heartbeat decided). */
  readonly viewFreeRatio: number;
  readonly viewSmoothedLoad: number;
  /** Share of servers whose own load was ever > 1 (KV past kvSafe) / ≥ 1 (at their bound) at a 1 s sample. */
  readonly serversOverSafeRatio: number;
  readonly serversAtBoundRatio: number;
  /** Share of servers that accepted a prompt while their own load was already ≥ 1: routing's fault. */
  readonly serversSentOverSafeRatio: number;
}

export interface ScenarioResult {
  readonly name: ScenarioSpec['name'];
  readonly wallMs: number;
  readonly virtualSeconds: number;
  readonly instants: number;
  readonly events: number;
  readonly phases: PhaseSummary[];
  readonly measured: {
    readonly premiumRatio: number;
    readonly freeRatio: number;
    readonly ttftP50Ms: number;
    readonly ttftP99Ms: number;
    readonly admissionP99Ms: number;
    readonly arrivals: number;
    readonly unresolved: number;
  };
  readonly peakAdmissionsPerSecond: number;
  readonly containers: { readonly peak: number; readonly created: number };
  readonly fleetBusyBurst: number | undefined;
  readonly outage:
    | {
        premiumRatio: number;
        freeRatio: number;
        serversOverSafeRatio: number;
        serversAtBoundRatio: number;
        serversSentOverSafeRatio: number;
      }
    | undefined;
  readonly kvOverflowServers: number;
  readonly dynamo: {
    readonly hottestRead: PartitionPeak;
    readonly hottestWrite: PartitionPeak;
    readonly largestItem: { table: string; key: string; bytes: number };
    readonly throttled: number;
    readonly chatReadUnits: number;
    /** Admission decisions (every prompt of the run, warm-up included). */
    readonly admissions: number;
    readonly rcuPerAdmission: number;
    readonly operations: Record<
      string,
      { count: number; readUnits: number; writeUnits: number; errors: Record<string, number> }
    >;
  };
  readonly heartbeat: {
    readonly ticks: number;
    readonly failures: Record<string, number>;
    readonly scrapeP50Ms: number;
    readonly scrapeP99Ms: number;
    readonly tickP99Ms: number;
    readonly scrapes: number;
    readonly scrapeTimeouts: number;
  };
  readonly logs: Record<string, number>;
}

interface Window {
  readonly phase: Phase;
  readonly stats: PhaseStats;
  readonly from: number;
  readonly to: number;
}

export async function runScenario(
  spec: ScenarioSpec,
  config: SimConfig,
  settings: RealSettings,
  seed: number,
): Promise<ScenarioResult> {
  const wallStart = performance.now();
  const world = await buildWorld(config, settings, seed);
  const { time, model, heartbeat } = world;
  const stats = new ScenarioStats();
  const start = time.now() + config.preludeMs;
  let cursor = start;
  const windows: Window[] = spec.phases.map((phase) => {
    const window = { phase, stats: stats.phase(phase.name), from: cursor, to: cursor + phase.seconds * 1000 };
    cursor = window.to;
    return window;
  });
  const end = cursor;

  const outage = spec.outagePhase ? windows.find((w) => w.phase.name === spec.outagePhase) : undefined;
  if (outage) {
    model.addFault({
      table: fleetTable.id,
      command: 'PutCommand',
      from: outage.from,
      to: outage.to,
      mode: config.outageMode,
    });
  }

  const phaseRandom = world.random.fork();
  for (const [shard, worker] of world.workers.entries()) {
    void runWorkerLoop({
      shard,
      worker,
      time,
      intervalMs: settings.intervalMs,
      phaseMs: phaseRandom.between(0, settings.intervalMs),
      tickTimeoutMs: settings.tickTimeoutMs,
      until: end + SETTLE_MS,
      stats: heartbeat,
    }).catch((error) => world.log.error(`worker loop crashed: ${String(error)}`));
  }

  scheduleArrivals(world, windows, stats, config);
  scheduleSamplers(world, windows, stats, start, end);
  await time.run(end + SETTLE_MS);
  for (const probe of world.probes) probe.flush();
  return summarise(
    world,
    spec,
    config,
    windows,
    stats,
    time.now() - world.epochMs,
    performance.now() - wallStart,
  );
}

function scheduleArrivals(world: World, windows: readonly Window[], stats: ScenarioStats, config: SimConfig) {
  const { time } = world;
  const random = world.random.fork();
  const context = {
    time,
    pool: world.pool,
    servers: world.servers,
    stats,
    epochMs: world.epochMs,
    serverAttempts: config.serverAttempts,
  };
  const promptMu = lognormalMuForMean(MEAN_PROMPT_TOKENS, PROMPT_SIGMA);
  const answerMu = lognormalMuForMean(MEAN_ANSWER_TOKENS, ANSWER_SIGMA);
  let index = 0;
  // The exact time of the arrival being scheduled: with a time quantum the instant it runs at is rounded,
  // and chaining from the rounded time would slow the arrival process down.
  let exactAt = windows[0]?.from ?? time.now();
  const arrive = () => {
    const window = windows[index] as Window;
    const tier = random.next() < config.premiumShare ? 'premium' : 'free';
    const prompt: Prompt = {
      tier,
      promptTokens: Math.max(1, Math.round(random.lognormal(promptMu, PROMPT_SIGMA))),
      answerTokens: Math.min(
        MAX_ANSWER_TOKENS,
        Math.max(1, Math.round(random.lognormal(answerMu, ANSWER_SIGMA))),
      ),
      arrivedAt: time.now(),
      phase: window.stats,
    };
    window.stats.arrivals[tier]++;
    servePrompt(prompt, context).catch((error) => {
      const name = `crash: ${error instanceof Error ? error.message : String(error)}`;
      window.stats.errors[name] = (window.stats.errors[name] ?? 0) + 1;
    });
    next(exactAt);
  };
  // Piecewise-constant rate: an exponential gap that crosses a phase boundary restarts there (memoryless).
  const next = (from: number) => {
    let at = from;
    while (index < windows.length) {
      const window = windows[index] as Window;
      const candidate = at + random.exponential(1000 / window.phase.rate);
      if (candidate < window.to) {
        exactAt = candidate;
        time.at(candidate, arrive);
        return;
      }
      at = window.to;
      index++;
    }
  };
  next(exactAt);
}

function scheduleSamplers(
  world: World,
  windows: readonly Window[],
  stats: ScenarioStats,
  start: number,
  end: number,
) {
  const { time, servers, model } = world;
  const { kvSafe } = world.settings.policy;
  const windowAt = (t: number) => windows.find((w) => t >= w.from && t < w.to);
  const sample = () => {
    const now = time.now();
    const window = windowAt(now);
    if (window) {
      let running = 0;
      let occupied = 0;
      let slots = 0;
      let capacity = 0;
      for (const server of servers.values()) {
        const held = server.running.length + server.waitingCount;
        running += server.running.length;
        occupied += held;
        slots += defaultServerConfig.slots;
        capacity += server.capacity;
        const kv = server.kvUsage(now);
        if (kv > 1) stats.kvOverflow.add(server.id);
        const load = Math.max(held / server.capacity, kv / kvSafe);
        if (load > 1) window.stats.overSafe.add(server.id);
        if (load >= 1) window.stats.atBound.add(server.id);
      }
      window.stats.busy.push(running / slots);
      window.stats.occupancy.push(occupied / capacity);
      const views = model.items(fleetTable.id);
      let ratio = 0;
      let smoothed = 0;
      for (const item of views) {
        const mode = String(item.mode);
        window.stats.modes[mode] = (window.stats.modes[mode] ?? 0) + 1;
        ratio += Number(item.free_admit_ratio);
        smoothed += item.smoothed_load === null ? Number.POSITIVE_INFINITY : Number(item.smoothed_load);
      }
      if (views.length > 0) {
        window.stats.viewFreeRatio.push(ratio / views.length);
        window.stats.viewSmoothedLoad.push(smoothed / views.length);
      }
    }
    if (now + 1000 < end) time.after(1000, sample);
  };
  time.at(start + 500, sample);
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;

function summarise(
  world: World,
  spec: ScenarioSpec,
  config: SimConfig,
  windows: readonly Window[],
  stats: ScenarioStats,
  virtualMs: number,
  wallMs: number,
): ScenarioResult {
  const { model, heartbeat, pool } = world;
  const phases: PhaseSummary[] = windows.map(({ phase, stats: s }) => ({
    name: phase.name,
    seconds: phase.seconds,
    rate: phase.rate,
    arrivals: s.arrivals,
    admitted: s.admitted,
    premiumRatio: s.arrivals.premium === 0 ? 1 : s.admitted.premium / s.arrivals.premium,
    freeRatio: s.arrivals.free === 0 ? 1 : s.admitted.free / s.arrivals.free,
    refused: s.refused,
    errors: s.errors,
    failovers: s.failovers,
    ttftP50Ms: s.ttft.quantile(0.5),
    ttftP99Ms: s.ttft.quantile(0.99),
    ttftP99PremiumMs: s.ttftByTier.premium.quantile(0.99),
    admissionP99Ms: s.admissionMs.quantile(0.99),
    busyMean: mean(s.busy),
    occupancyMean: mean(s.occupancy),
    modes: s.modes,
    viewFreeRatio: mean(s.viewFreeRatio),
    viewSmoothedLoad: mean(s.viewSmoothedLoad),
    serversOverSafeRatio: s.overSafe.size / config.servers,
    serversAtBoundRatio: s.atBound.size / config.servers,
    serversSentOverSafeRatio: s.sentOverSafe.size / config.servers,
  }));
  const measured = combine(windows.filter((w) => spec.measured.includes(w.phase.name)).map((w) => w.stats));
  const all = combine(windows.map((w) => w.stats));
  const arrivals = all.arrivals.premium + all.arrivals.free;
  let resolved = all.admitted.premium + all.admitted.free;
  for (const w of windows) {
    resolved += w.stats.refusedCount('premium') + w.stats.refusedCount('free');
    resolved += Object.values(w.stats.errors).reduce((sum, n) => sum + n, 0);
  }
  const operations = Object.fromEntries(model.totals.entries());
  let chatReadUnits = 0;
  for (const [key, totals] of model.totals)
    if (key.startsWith(`chat ${fleetTable.id} `)) chatReadUnits += totals.readUnits;
  const burst = spec.burstPhase ? phases.find((p) => p.name === spec.burstPhase) : undefined;
  const outage = spec.outagePhase ? phases.find((p) => p.name === spec.outagePhase) : undefined;
  const logs = Object.fromEntries(world.log.counts.entries());
  return {
    name: spec.name,
    wallMs,
    virtualSeconds: virtualMs / 1000,
    instants: world.time.instants,
    events: world.time.eventsRun,
    phases,
    measured: {
      premiumRatio: measured.premiumRatio,
      freeRatio: measured.freeRatio,
      ttftP50Ms: measured.ttft.quantile(0.5),
      ttftP99Ms: measured.ttft.quantile(0.99),
      admissionP99Ms: measured.admissionMs.quantile(0.99),
      arrivals: measured.arrivals.premium + measured.arrivals.free,
      unresolved: arrivals - resolved,
    },
    peakAdmissionsPerSecond: stats.peakAdmissionsPerSecond(),
    containers: { peak: pool.peakBusy, created: pool.created },
    fleetBusyBurst: burst?.busyMean,
    outage: outage
      ? {
          premiumRatio: outage.premiumRatio,
          freeRatio: outage.freeRatio,
          serversOverSafeRatio: outage.serversOverSafeRatio,
          serversAtBoundRatio: outage.serversAtBoundRatio,
          serversSentOverSafeRatio: outage.serversSentOverSafeRatio,
        }
      : undefined,
    kvOverflowServers: stats.kvOverflow.size,
    dynamo: {
      hottestRead: model.hottest('read'),
      hottestWrite: model.hottest('write'),
      largestItem: model.largestItem,
      throttled: [...model.throttles.values()].reduce((sum, n) => sum + n, 0),
      chatReadUnits,
      admissions: arrivals,
      rcuPerAdmission: arrivals === 0 ? 0 : chatReadUnits / arrivals,
      operations,
    },
    heartbeat: {
      ticks: heartbeat.ticks,
      failures: heartbeat.failures,
      scrapeP50Ms: heartbeat.scrapeMs.quantile(0.5),
      scrapeP99Ms: heartbeat.scrapeMs.quantile(0.99),
      tickP99Ms: heartbeat.tickMs.quantile(0.99),
      scrapes: world.probes.reduce((sum, p) => sum + p.scrapes, 0),
      scrapeTimeouts: world.probes.reduce((sum, p) => sum + p.timeouts, 0),
    },
    logs,
  };
}
