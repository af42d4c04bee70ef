/**
 * The simulation's settings, from the environment (all optional):
 *
 *   SIM_SERVERS=2300        servers registered (the arrival rate scales with them: 5,800/s per 2,300)
 *   SIM_SECONDS_SCALE=1     multiplies every phase's length (0.1 for a quick look)
 *   SIM_SHARDS=64           heartbeat shards (one worker and one view each; divides 64)
 *   SIM_RATE=5800           base arrivals per second at SIM_SERVERS=2300 (scaled with the servers)
 *   SIM_BURST=3             burst multiplier of the base rate
 *   SIM_PREMIUM_SHARE=0.1   share of premium prompts
 *   SIM_SCENARIOS=main,outage
 *   SIM_SEED=1
 *   SIM_OUTAGE_MODE=throw   throw | hang (the fleet table's Puts fail, or hang until the tick's time-out)
 *   SIM_TIME_QUANTUM_MS=0   >0 rounds event times up to this grain (fewer instants, faster, coarser)
 *   SIM_DRAIN=set-immediate  or microtask-rounds (faster; only exact while no chain is deeper than 64)
 *   SIM_PREMIUM_SERVER_ATTEMPTS, SIM_FREE_SERVER_ATTEMPTS  what-if: servers a prompt tries before it is
 *                           refused (default: the product's own, ServerSelector.attempts)
 *   SIM_REAL_VIEWS=0        1: every chat read decoded by the real getView (see shared-views.ts)
 *   SIM_SCRAPE_TIMEOUT_SHARE=0.001  share of /metrics scrapes that hang until the probe time-out
 *   SIM_KV_ADMISSION=reserve  or overcommit: how a server starts queued sequences (see server-model.ts)
 *
 * The real code's own settings come from its own variables (settings/settings.ts):
 * HEARTBEAT_INTERVAL_SECONDS, SHED_FREE_AT, SATURATED_AT, FREE_COOLDOWN_SECONDS, SERVER_STALE_SECONDS,
 * VIEW_DISTRUST_SECONDS, PREMIUM_ADMISSION_WAIT_MS, HEARTBEAT_TICK_TIMEOUT_MS, REGISTRY_REFRESH_SECONDS,
 * HEARTBEAT_PROBE_TIMEOUT_MS, so a policy can be tuned here exactly as it is deployed. SIM_POLICY (JSON) overrides
 * FleetPolicy fields that have no variable, e.g. SIM_POLICY='{"targetLoad":0.85}'.
 */

export interface Phase {
  readonly name: string;
  readonly seconds: number;
  /** Arrivals per second. */
  readonly rate: number;
}

export interface ScenarioSpec {
  readonly name: 'main' | 'outage';
  readonly phases: readonly Phase[];
  /** Phases the headline ratios are taken over. */
  readonly measured: readonly string[];
  /** The phase during which the fleet table refuses the heartbeat's writes. */
  readonly outagePhase?: string;
  /** The phase whose fleet busy ratio is the overload figure. */
  readonly burstPhase?: string;
}

export interface SimConfig {
  readonly servers: number;
  readonly secondsScale: number;
  readonly shards: number;
  readonly baseRate: number;
  readonly burstFactor: number;
  readonly premiumShare: number;
  readonly scenarios: readonly ScenarioSpec['name'][];
  readonly seed: number;
  readonly outageMode: 'throw' | 'hang';
  readonly timeQuantumMs: number;
  /** How the engine lets microtasks finish between instants (see virtual-time.ts). */
  readonly drain: 'set-immediate' | 'microtask-rounds';
  /** What-if overrides of the servers a prompt may try (first + failovers); default: the selector's own. */
  readonly serverAttempts: { readonly premium?: number; readonly free?: number };
  /** Decode every chat read with the real getView (exact, slower) instead of once per version. */
  readonly realViews: boolean;
  /** Share of scrapes that hang until the probe's time-out. */
  readonly scrapeTimeoutShare: number;
  readonly kvAdmission: 'reserve' | 'overcommit';
  /** Heartbeat runs alone this long before the first arrival (its views exist, as in production). */
  readonly preludeMs: number;
  /** The population the brief names: results at another size say so. */
  readonly fullScale: { readonly servers: number; readonly rate: number };
}

export const FULL_SCALE = { servers: 2_300, rate: 5_800 } as const;

function numberFromEnv(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  check: (n: number) => boolean,
) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value)) throw new Error(`${name} is not valid: "${raw}"`);
  return value;
}

const attemptsFromEnv = (env: NodeJS.ProcessEnv, name: string) =>
  numberFromEnv(env, name, 1, (n) => Number.isInteger(n) && n >= 1);

export function simConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SimConfig {
  const positive = (n: number) => n > 0;
  const servers = numberFromEnv(env, 'SIM_SERVERS', FULL_SCALE.servers, (n) => Number.isInteger(n) && n >= 1);
  const rate = numberFromEnv(env, 'SIM_RATE', FULL_SCALE.rate, positive);
  const scenarios = (env.SIM_SCENARIOS ?? 'main,outage')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of scenarios) {
    if (name !== 'main' && name !== 'outage') throw new Error(`SIM_SCENARIOS: unknown scenario "${name}"`);
  }
  const kvAdmission = env.SIM_KV_ADMISSION ?? 'reserve';
  if (kvAdmission !== 'reserve' && kvAdmission !== 'overcommit')
    throw new Error('SIM_KV_ADMISSION must be reserve or overcommit');
  const outageMode = env.SIM_OUTAGE_MODE ?? 'throw';
  if (outageMode !== 'throw' && outageMode !== 'hang')
    throw new Error('SIM_OUTAGE_MODE must be throw or hang');
  return {
    servers,
    secondsScale: numberFromEnv(env, 'SIM_SECONDS_SCALE', 1, positive),
    shards: numberFromEnv(env, 'SIM_SHARDS', 64, (n) => Number.isInteger(n) && n >= 1 && 64 % n === 0),
    baseRate: (rate * servers) / FULL_SCALE.servers,
    burstFactor: numberFromEnv(env, 'SIM_BURST', 3, positive),
    premiumShare: numberFromEnv(env, 'SIM_PREMIUM_SHARE', 0.1, (n) => n >= 0 && n <= 1),
    scenarios: scenarios as ScenarioSpec['name'][],
    seed: numberFromEnv(env, 'SIM_SEED', 1, Number.isInteger),
    outageMode,
    timeQuantumMs: numberFromEnv(env, 'SIM_TIME_QUANTUM_MS', 0, (n) => n >= 0),
    realViews: env.SIM_REAL_VIEWS === '1',
    serverAttempts: {
      ...(env.SIM_PREMIUM_SERVER_ATTEMPTS
        ? { premium: attemptsFromEnv(env, 'SIM_PREMIUM_SERVER_ATTEMPTS') }
        : {}),
      ...(env.SIM_FREE_SERVER_ATTEMPTS ? { free: attemptsFromEnv(env, 'SIM_FREE_SERVER_ATTEMPTS') } : {}),
    },
    drain: env.SIM_DRAIN === 'microtask-rounds' ? 'microtask-rounds' : 'set-immediate',
    scrapeTimeoutShare: numberFromEnv(env, 'SIM_SCRAPE_TIMEOUT_SHARE', 0.001, (n) => n >= 0 && n <= 1),
    kvAdmission,
    preludeMs: 2_000,
    fullScale: FULL_SCALE,
  };
}

export function scenarioSpec(name: ScenarioSpec['name'], config: SimConfig): ScenarioSpec {
  const s = (seconds: number) => seconds * config.secondsScale;
  const base = config.baseRate;
  if (name === 'main') {
    return {
      name,
      phases: [
        { name: 'warmup', seconds: s(30), rate: base },
        { name: 'steady', seconds: s(60), rate: base },
        { name: 'burst', seconds: s(60), rate: base * config.burstFactor },
        { name: 'recovery', seconds: s(60), rate: base },
      ],
      measured: ['steady', 'burst', 'recovery'],
      burstPhase: 'burst',
    };
  }
  return {
    name,
    phases: [
      { name: 'warmup', seconds: s(30), rate: base },
      { name: 'steady', seconds: s(30), rate: base },
      { name: 'outage', seconds: s(120), rate: base },
      { name: 'after', seconds: s(30), rate: base },
    ],
    measured: ['steady', 'outage', 'after'],
    outagePhase: 'outage',
  };
}
