/**
 * Inference fleet load, the fleet mode with its hysteresis, and admission by tier.
 * Pure functions over plain data: the heartbeat computes the next state, the chat function admits.
 *
 * Load of one server: max((running + waiting) / capacity, kvCacheUsage / kvSafe), where `capacity` is the
 * number of concurrent sequences (running + queued) the server may hold while keeping the first-token
 * objective (configured per server: its batch slots plus a short queue). A server is *safe* — may be
 * sent a new prompt — while its load is below 1. Fleet load: Σ(running + waiting) / Σ capacity over the
 * available servers (KV pressure folded in per server).
 */
import type { Tier } from './turn';

export interface ServerLoad {
  readonly id: string;
  readonly baseUrl: string;
  readonly running: number;
  readonly waiting: number;
  /** 0..1 when the server exposes it (vLLM, SGLang, TensorRT-LLM); absent for TGI / llama.cpp. */
  readonly kvCacheUsage?: number;
  readonly capacity: number;
  /** False when the last scrape failed. */
  readonly healthy: boolean;
  /** Epoch ms of the last successful scrape (or of the failure, when unhealthy). */
  readonly updatedAt: number;
}

export type FleetMode = 'normal' | 'shed_free' | 'saturated';

export interface FleetState {
  readonly mode: FleetMode;
  readonly load: number;
  /** Share of free-tier prompts admitted while shedding, steered to keep the fleet busy without queueing. */
  readonly freeAdmitRatio: number;
  /** When free tier was last shed (epoch ms). */
  readonly shedSince?: number;
  /** Since when the load has stayed below SHED_FREE_AT while shedding (epoch ms); the cool-down runs from it. */
  readonly belowSince?: number;
  /** When free tier may come back at the earliest, while shedding (epoch ms). */
  readonly freeReturnsAt?: number;
  readonly updatedAt: number;
  /** Optimistic-concurrency version of the stored state. */
  readonly version: number;
  readonly servers: readonly ServerLoad[];
}

export interface FleetPolicy {
  /** Fleet load at which free tier is shed. */
  readonly shedFreeAt: number;
  /** Fleet load at which nobody is admitted. */
  readonly saturatedAt: number;
  /** Free tier comes back after the load stayed below shedFreeAt this long. */
  readonly freeCooldownMs: number;
  /** A server report older than this counts as unavailable. */
  readonly staleAfterMs: number;
  /** KV-cache use that counts as a full server. */
  readonly kvSafe: number;
  /** While shedding, the fleet load the free admit ratio steers towards (between the two thresholds). */
  readonly targetLoad: number;
}

export const defaultFleetPolicy: FleetPolicy = {
  shedFreeAt: 0.8,
  saturatedAt: 1.0,
  freeCooldownMs: 120_000,
  staleAfterMs: 5_000,
  kvSafe: 0.9,
  targetLoad: 0.9,
};

export function isAvailable(server: ServerLoad, now: number, policy: FleetPolicy): boolean {
  return server.healthy && server.capacity > 0 && now - server.updatedAt <= policy.staleAfterMs;
}

/** Load of one server; unavailable servers are infinitely loaded (never chosen). */
export function serverLoad(server: ServerLoad, now: number, policy: FleetPolicy): number {
  if (!isAvailable(server, now, policy)) return Number.POSITIVE_INFINITY;
  const queueLoad = (server.running + server.waiting) / server.capacity;
  const kvLoad = server.kvCacheUsage === undefined ? 0 : server.kvCacheUsage / policy.kvSafe;
  return Math.max(queueLoad, kvLoad);
}

export function isSafe(server: ServerLoad, now: number, policy: FleetPolicy): boolean {
  return serverLoad(server, now, policy) < 1;
}

/** Capacity-weighted fleet load over the available servers; infinite when none is available. */
export function fleetLoad(servers: readonly ServerLoad[], now: number, policy: FleetPolicy): number {
  let used = 0;
  let capacity = 0;
  for (const server of servers) {
    const load = serverLoad(server, now, policy);
    if (!Number.isFinite(load)) continue;
    used += load * server.capacity;
    capacity += server.capacity;
  }
  return capacity === 0 ? Number.POSITIVE_INFINITY : used / capacity;
}

/** Multiplicative steps of the free admit ratio per heartbeat (AIMD-like, quick to back off). */
const RATIO_DECREASE = 0.6;
const RATIO_INCREASE = 1.25;
const RATIO_FLOOR = 0.02;
const RATIO_MIN_STEP = 0.05;

/**
 * The next fleet state from fresh server reports and the previous state.
 * normal → shed_free when load ≥ shedFreeAt; shed_free → normal only after the load stayed below
 * shedFreeAt for the cool-down; saturated whenever no server is safe or load ≥ saturatedAt (free stays
 * shed through saturation, so the cool-down is not skipped).
 */
export function nextFleetState(
  previous: FleetState | undefined,
  servers: readonly ServerLoad[],
  now: number,
  policy: FleetPolicy,
): FleetState {
  const load = fleetLoad(servers, now, policy);
  const anySafe = servers.some((server) => isSafe(server, now, policy));
  const wasShedding = previous !== undefined && previous.mode !== 'normal';
  const version = (previous?.version ?? 0) + 1;

  const saturated = !anySafe || load >= policy.saturatedAt;
  const aboveShed = load >= policy.shedFreeAt;

  if (!wasShedding && !aboveShed && !saturated) {
    return { mode: 'normal', load, freeAdmitRatio: 1, updatedAt: now, version, servers };
  }

  const shedSince = wasShedding ? (previous?.shedSince ?? now) : now;
  const belowSince = aboveShed || saturated ? undefined : (previous?.belowSince ?? now);
  const freeReturnsAt = (belowSince ?? now) + policy.freeCooldownMs;
  if (!saturated && belowSince !== undefined && now >= freeReturnsAt) {
    return { mode: 'normal', load, freeAdmitRatio: 1, updatedAt: now, version, servers };
  }

  const previousRatio = wasShedding ? (previous?.freeAdmitRatio ?? 1) : 1;
  let freeAdmitRatio: number;
  if (saturated || load > policy.targetLoad) {
    freeAdmitRatio = Math.max(RATIO_FLOOR, previousRatio * RATIO_DECREASE);
  } else {
    freeAdmitRatio = Math.min(1, Math.max(previousRatio * RATIO_INCREASE, previousRatio + RATIO_MIN_STEP));
  }
  // On entering shed, start from the ratio that would have held the load at the target.
  if (!wasShedding) {
    freeAdmitRatio = Math.max(
      RATIO_FLOOR,
      Math.min(1, policy.targetLoad / Math.max(load, 1e-9)) * RATIO_DECREASE,
    );
  }

  return {
    mode: saturated ? 'saturated' : 'shed_free',
    load,
    freeAdmitRatio: saturated ? RATIO_FLOOR : freeAdmitRatio,
    shedSince,
    ...(belowSince !== undefined ? { belowSince } : {}),
    freeReturnsAt,
    updatedAt: now,
    version,
    servers,
  };
}

export type AdmissionDecision =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: 'free_shed' | 'saturated' | 'no_fleet_data' };

/**
 * Admission for one prompt. `random` is uniform in [0,1): free prompts are admitted with the state's
 * ratio while shedding, so many containers sharing one stale view still admit a steady share.
 * A state the heartbeat has not refreshed within staleAfterMs means no live view of the fleet: nobody.
 */
export function admit(
  state: FleetState | undefined,
  tier: Tier,
  now: number,
  random: number,
  policy: FleetPolicy,
): AdmissionDecision {
  if (!state || now - state.updatedAt > policy.staleAfterMs)
    return { admitted: false, reason: 'no_fleet_data' };
  if (state.mode === 'saturated') return { admitted: false, reason: 'saturated' };
  if (state.mode === 'shed_free' && tier === 'free' && random >= state.freeAdmitRatio) {
    return { admitted: false, reason: 'free_shed' };
  }
  return { admitted: true };
}

export interface BackoffPolicy {
  /** Premium: the same wait every time. */
  readonly premiumSeconds: number;
  /** Free: base doubled per attempt, plus up to `jitter` of it, capped. */
  readonly freeBaseSeconds: number;
  readonly freeCapSeconds: number;
  readonly jitter: number;
}

export const defaultBackoffPolicy: BackoffPolicy = {
  premiumSeconds: 10,
  freeBaseSeconds: 10,
  freeCapSeconds: 320,
  jitter: 0.2,
};

/**
 * Retry-After for a refused prompt. Premium: linear (10 s every time). Free: 10, 20, 40 s … by the
 * client's attempt number, each stretched by up to 20 % at random so refused clients do not return
 * in lockstep, and capped.
 */
export function retryAfterSeconds(
  tier: Tier,
  attempt: number,
  random: number,
  policy: BackoffPolicy,
): number {
  if (tier === 'premium') return policy.premiumSeconds;
  const safeAttempt = Math.max(0, Math.min(16, Math.floor(attempt)));
  const base = Math.min(policy.freeCapSeconds, policy.freeBaseSeconds * 2 ** safeAttempt);
  return Math.min(policy.freeCapSeconds, Math.round(base * (1 + policy.jitter * random)));
}
