/**
 * Settings of the overload benchmark: the fleet (identical for every policy), the load phases as
 * multiples of the fleet's capacity, and the policies compared. Read once from the environment.
 */
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';

export type PolicyName = 'admit_all' | 'static_reservation' | 'load_based';

const ALL_POLICIES: readonly PolicyName[] = ['admit_all', 'static_reservation', 'load_based'];

export interface FleetSettings {
  readonly servers: number;
  readonly slots: number;
  readonly tokensPerSecond: number;
  readonly answerTokens: number;
  readonly ttftMs: number;
}

export interface Phases {
  /** Steady low load before the ramp (s). */
  readonly warmSeconds: number;
  /** Linear ramp from the low to the overload factor (s). */
  readonly rampSeconds: number;
  /** Overload held at `overloadFactor` × capacity (s): the measurement window. */
  readonly holdSeconds: number;
  /** Low load after the drop (s): long enough to see free tier come back. */
  readonly recoverySeconds: number;
  readonly lowFactor: number;
  readonly overloadFactor: number;
}

export interface BenchConfig {
  readonly quick: boolean;
  readonly seed: number;
  readonly users: number;
  readonly premiumShare: number;
  readonly fleet: FleetSettings;
  readonly phases: Phases;
  readonly policies: readonly PolicyName[];
  /** Servers reserved for premium under static_reservation. */
  readonly reservedServers: number;
  /** FREE_COOLDOWN_SECONDS given to every stack (only load_based acts on it). */
  readonly freeCooldownSeconds: number;
  /** Client-side cap on one prompt (connect to [DONE]); beyond it the prompt counts as failed. */
  readonly clientTimeoutMs: number;
  /** The first-token objective the TTFT goal and the "served" measures use. */
  readonly ttftObjectiveMs: number;
  readonly sampleEveryMs: number;
  /** Product knobs found in this process's environment: every spawned stack inherits them. */
  readonly inheritedKnobs: Readonly<Record<string, string>>;
}

/** Product settings that change admission or latency; the benchmark sets none of them itself. */
const PRODUCT_KNOBS = [
  'SHED_FREE_AT',
  'SATURATED_AT',
  'HEARTBEAT_INTERVAL_SECONDS',
  'HEARTBEAT_PROBE_TIMEOUT_MS',
  'SERVER_STALE_SECONDS',
  'FIRST_TOKEN_TIMEOUT_MS',
  'STOP_POLL_MS',
  'MAX_ANSWER_TOKENS',
  'INFERENCE_CONNECT_TIMEOUT_MS',
  'INFERENCE_IDLE_TIMEOUT_MS',
] as const;

/** Settings that would point the stacks away from their own fleet and database: refused. */
const FOREIGN_SETTINGS = ['INFERENCE_SERVERS', 'LOCAL_DYNAMODB_ENDPOINT'] as const;

type Env = Readonly<Record<string, string | undefined>>;

function numberFrom(env: Env, name: string, fallback: number, check: (value: number) => boolean): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || !check(value))
    throw new Error(`${name} is not valid: ${JSON.stringify(raw)}`);
  return value;
}

const positiveInt = (value: number) => Number.isInteger(value) && value > 0;
const positive = (value: number) => value > 0;

function policiesFrom(env: Env): PolicyName[] {
  const raw = env.BENCH_POLICIES?.trim();
  if (raw === undefined || raw === '') return [...ALL_POLICIES];
  const chosen = raw.split(',').map((name) => name.trim());
  for (const name of chosen) {
    if (!ALL_POLICIES.some((policy) => policy === name)) {
      throw new Error(`BENCH_POLICIES: unknown policy ${JSON.stringify(name)} (${ALL_POLICIES.join(', ')})`);
    }
  }
  return ALL_POLICIES.filter((policy) => chosen.includes(policy));
}

/**
 * BENCH_QUICK=1: short phases and a 15 s free-tier cool-down, for a smoke run.
 * Other overrides: BENCH_SERVERS (3), BENCH_SLOTS (8), BENCH_TOKENS_PER_SECOND (50), BENCH_ANSWER_TOKENS
 * (100), BENCH_TTFT_MS (150), BENCH_USERS (200), BENCH_SEED (1), BENCH_POLICIES (all, comma-separated),
 * BENCH_HOLD_SECONDS, BENCH_RECOVERY_SECONDS, BENCH_OVERLOAD_FACTOR (3).
 */
export function benchConfigFromEnv(env: Env = process.env): BenchConfig {
  for (const name of FOREIGN_SETTINGS) {
    if (env[name]?.trim()) throw new Error(`unset ${name}: the benchmark runs each policy on its own fleet`);
  }
  const inheritedKnobs: Record<string, string> = {};
  for (const name of PRODUCT_KNOBS) {
    const value = env[name]?.trim();
    if (value) inheritedKnobs[name] = value;
  }
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const freeCooldownSeconds = quick ? 15 : 120;
  return {
    quick,
    seed: numberFrom(env, 'BENCH_SEED', 1, Number.isInteger),
    users: numberFrom(env, 'BENCH_USERS', 200, positiveInt),
    premiumShare: 0.1,
    fleet: {
      servers: numberFrom(env, 'BENCH_SERVERS', 3, positiveInt),
      slots: numberFrom(env, 'BENCH_SLOTS', 8, positiveInt),
      tokensPerSecond: numberFrom(env, 'BENCH_TOKENS_PER_SECOND', 50, positive),
      answerTokens: numberFrom(env, 'BENCH_ANSWER_TOKENS', 100, positiveInt),
      ttftMs: numberFrom(env, 'BENCH_TTFT_MS', 150, (value) => value >= 0),
    },
    phases: {
      warmSeconds: quick ? 5 : 15,
      rampSeconds: quick ? 5 : 15,
      holdSeconds: numberFrom(env, 'BENCH_HOLD_SECONDS', quick ? 20 : 60, positive),
      // Cool-down + the time the queue takes to fall below SHED_FREE_AT + a 5 s window + margin.
      recoverySeconds: numberFrom(env, 'BENCH_RECOVERY_SECONDS', quick ? 30 : 150, positive),
      lowFactor: 0.5,
      overloadFactor: numberFrom(env, 'BENCH_OVERLOAD_FACTOR', 3, positive),
    },
    policies: policiesFrom(env),
    reservedServers: 1,
    freeCooldownSeconds,
    clientTimeoutMs: 60_000,
    ttftObjectiveMs: 2_000,
    sampleEveryMs: 250,
    inheritedKnobs,
  };
}

/** Mean service time of one prompt on a free slot (s): prefill, then answerTokens at tokensPerSecond. */
export function meanServiceSeconds(fleet: FleetSettings): number {
  return fleet.ttftMs / 1000 + fleet.answerTokens / fleet.tokensPerSecond;
}

/** Prompts per second the fleet completes when every slot is busy. */
export function capacityPerSecond(fleet: FleetSettings): number {
  return (fleet.servers * fleet.slots) / meanServiceSeconds(fleet);
}

export interface PhaseBounds {
  readonly rampStart: number;
  readonly holdStart: number;
  /** The drop to the low rate. */
  readonly dropAt: number;
  readonly end: number;
}

/** Phase boundaries in seconds from the start of the load. */
export function phaseBounds(phases: Phases): PhaseBounds {
  const rampStart = phases.warmSeconds;
  const holdStart = rampStart + phases.rampSeconds;
  const dropAt = holdStart + phases.holdSeconds;
  return { rampStart, holdStart, dropAt, end: dropAt + phases.recoverySeconds };
}

/** Offered rate (prompts/s) at `t` seconds from the start. */
export function offeredRate(t: number, phases: Phases, capacity: number): number {
  const bounds = phaseBounds(phases);
  const low = phases.lowFactor * capacity;
  const high = phases.overloadFactor * capacity;
  if (t < 0 || t >= bounds.end) return 0;
  if (t < bounds.rampStart) return low;
  if (t < bounds.holdStart) return low + ((high - low) * (t - bounds.rampStart)) / phases.rampSeconds;
  if (t < bounds.dropAt) return high;
  return low;
}

/** The environment of one policy's stack: the same fleet for all, only the admission policy differs. */
export function stackEnv(config: BenchConfig, policy: PolicyName): Record<string, string> {
  const { fleet } = config;
  return {
    // Admission is measured here, not the per-user quotas.
    ...UNMETERED_QUOTAS_ENV,
    LOCAL_FLEET_SERVERS: String(fleet.servers),
    LOCAL_FLEET_SLOTS: String(fleet.slots),
    LOCAL_FLEET_TOKENS_PER_SECOND: String(fleet.tokensPerSecond),
    LOCAL_FLEET_ANSWER_TOKENS: String(fleet.answerTokens),
    LOCAL_FLEET_TTFT_MS: String(fleet.ttftMs),
    // Unbounded server queues, as vLLM by default: admission is the only thing between users and a queue.
    LOCAL_FLEET_MAX_QUEUE: '',
    ADMISSION_POLICY: policy,
    PREMIUM_RESERVED_SERVERS: String(config.reservedServers),
    FREE_COOLDOWN_SECONDS: String(config.freeCooldownSeconds),
  };
}
