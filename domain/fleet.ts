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
import { ENTITLEMENTS } from '../contract/entitlements';
import type { Tier } from '../contract/turn';

export interface ServerLoad {
  readonly id: string;
  readonly baseUrl: string;
  readonly running: number;
  readonly waiting: number;
  /** 0..1 when the server exposes it (vLLM, SGLang, TensorRT-LLM); absent for TGI / llama.cpp. */
  readonly kvCacheUsage?: number;
  readonly capacity: number;
  /** The server's counter of finished requests at this scrape (vLLM, TGI), when it has one. */
  readonly completedTotal?: number;
  /**
   * Requests finished per second, from the counter's growth between scrapes (smoothed). The chat function
   * credits `rate × age` of a snapshot as slots freed since, so an old view is not a pessimistic one.
   */
  readonly completionRate?: number;
  /** False when the last scrape failed. */
  readonly healthy: boolean;
  /** An operator is draining it (registry): still scraped, sent no new prompt; its streams finish. */
  readonly draining?: boolean;
  /** Epoch ms of the last successful scrape (or of the failure, when unhealthy). */
  readonly updatedAt: number;
}

export type FleetMode = 'normal' | 'shed_free' | 'saturated';

/** One heartbeat shard's contribution to the fleet-wide load. */
export interface ShardTotals {
  readonly shard: number;
  /** Σ load × capacity over the shard's available, non-draining servers (sequences, KV pressure folded in). */
  readonly used: number;
  /** Σ capacity over the same servers. */
  readonly capacity: number;
  /** How many of them are below their safe threshold. */
  readonly safeServers: number;
  /** When the shard's heartbeat computed them (epoch ms). */
  readonly updatedAt: number;
}

/**
 * One heartbeat shard's view (domain/fleet-shards.ts): its servers' loads plus a replica of the fleet-wide
 * summary (mode, loads, free ratio and their timers), which every shard's worker computes from the same
 * shard totals. A chat container admits and routes with one view.
 */
export interface FleetState {
  /** The heartbeat shard this view belongs to. */
  readonly shard: number;
  /** This shard's totals (the others' are read from their views). */
  readonly totals: ShardTotals;
  readonly mode: FleetMode;
  /** The fleet load at this heartbeat. */
  readonly load: number;
  /**
   * The load smoothed over a few heartbeats: the mode follows it, so one burst of arrivals neither flips the
   * fleet to saturated (refusing premium) nor restarts the free tier's cool-down.
   */
  readonly smoothedLoad: number;
  /** Since when no server has been safe (epoch ms); saturated once that lasts past one heartbeat. */
  readonly noSafeSince?: number;
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
  /** Time constant of the smoothed load. */
  readonly loadSmoothingMs: number;
  /**
   * Age past which a view's per-server loads are not trusted at all. Between staleAfterMs and this, a
   * chat container trusts a view less and less (viewTrust): routing blends from headroom towards an even
   * spread and free tier's ceiling drops; past it, prompts are spread evenly over the servers the view
   * last saw healthy and within the ceiling, and the servers' own refusals (bounded queues, 429/503) with
   * failover are the guard.
   */
  readonly distrustAfterMs: number;
  /** The share of its usual ceiling free tier keeps on a view no longer trusted (premium keeps all of it). */
  readonly freeCeilingFloor: number;
}

/**
 * Seconds between two heartbeats; also how long a chat container reuses one read of the fleet state. The
 * view admission works from is up to about two of these old; bench:overload measured 94 % of slots busy
 * at 1 s and 99 % at 0.5 s with the same arrivals (premium 100 % and first-token p99 under 2 s in both).
 */
export const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 0.5;

export const defaultFleetPolicy: FleetPolicy = {
  shedFreeAt: 0.8,
  saturatedAt: 1.0,
  freeCooldownMs: 120_000,
  // Three heartbeats: the deployed default (settings: SERVER_STALE_SECONDS = 3 × the interval).
  staleAfterMs: 3 * DEFAULT_HEARTBEAT_INTERVAL_SECONDS * 1000,
  kvSafe: 0.9,
  // Between the two thresholds, near the top: the servers' short queues are there to be used.
  targetLoad: 0.95,
  loadSmoothingMs: 3_000,
  // A few answer lengths: by then every sequence a view saw has been replaced, so which server looked
  // emptier says nothing (bench/scale measured servers at their bound in a 120 s outage: 20 % at 300 s,
  // 8 % at 30 s).
  distrustAfterMs: 60_000,
  freeCeilingFloor: 0.75,
};

/** Below this magnitude a decaying value is exactly 0: DynamoDB refuses numbers under 1e-130. */
const DECAY_EPSILON = 1e-9;

/** A value decaying towards 0 reaches exactly 0 (no denormals, nothing a table cannot store). */
export function settle(value: number): number {
  return Math.abs(value) < DECAY_EPSILON ? 0 : value;
}

/**
 * How far a chat container trusts a view of age `ageMs`: 1 while fresh (within staleAfterMs), falling
 * linearly to 0 at distrustAfterMs. A stale view is never a reason to refuse: it only makes routing and
 * free tier more conservative.
 */
export function viewTrust(ageMs: number, policy: FleetPolicy): number {
  if (ageMs <= policy.staleAfterMs) return 1;
  const span = policy.distrustAfterMs - policy.staleAfterMs;
  if (span <= 0) return 0;
  return Math.max(0, 1 - (ageMs - policy.staleAfterMs) / span);
}

/** Healthy at its last scrape, with capacity, and not being drained: may be sent prompts. */
export function isRoutable(server: ServerLoad): boolean {
  return server.healthy && server.capacity > 0 && server.draining !== true;
}

/** The load a server has when it holds `sequences` (running + queued): queue or KV pressure, whichever is higher. */
export function loadWith(server: ServerLoad, sequences: number, policy: FleetPolicy): number {
  const kvLoad = server.kvCacheUsage === undefined ? 0 : server.kvCacheUsage / policy.kvSafe;
  return Math.max(sequences / server.capacity, kvLoad);
}

/** Multiplicative steps of the free admit ratio per heartbeat (AIMD-like, quick to back off). */
const RATIO_DECREASE = 0.6;
const RATIO_INCREASE = 1.25;
const RATIO_FLOOR = 0.02;
const RATIO_MIN_STEP = 0.05;
/** Weight of the newest measurement in a server's smoothed completion rate. */
const RATE_SMOOTHING = 0.5;

/** Each server's completion rate, from its counter's growth since the previous report of it. */
export function withCompletionRates(
  previous: readonly ServerLoad[] | undefined,
  servers: readonly ServerLoad[],
): ServerLoad[] {
  const before = new Map((previous ?? []).map((server) => [server.id, server]));
  return servers.map((server) => {
    const last = before.get(server.id);
    const total = server.completedTotal;
    if (!server.healthy || total === undefined || !last || last.completedTotal === undefined) return server;
    const seconds = (server.updatedAt - last.updatedAt) / 1000;
    // A counter that went down belongs to a restarted server: no rate from this pair.
    if (seconds <= 0 || total < last.completedTotal) return server;
    const measured = (total - last.completedTotal) / seconds;
    const completionRate =
      last.completionRate === undefined
        ? measured
        : last.completionRate + RATE_SMOOTHING * (measured - last.completionRate);
    // Halved on every idle tick: without settling it would underflow DynamoDB's range within minutes.
    return { ...server, completionRate: settle(completionRate) };
  });
}

/** A shard's contribution to the fleet load, from its servers' fresh reports. */
export function shardTotals(
  shard: number,
  servers: readonly ServerLoad[],
  now: number,
  policy: FleetPolicy,
): ShardTotals {
  let used = 0;
  let capacity = 0;
  let safeServers = 0;
  for (const server of servers) {
    // The heartbeat computing these keeps a server's last good report through a short run of failed
    // scrapes and marks it unhealthy past that grace; a report merely older than staleAfterMs (a slow
    // tick) must not take its capacity away: on a loaded heartbeat that made a healthy fleet look empty,
    // hence saturated, and refused free tier outright.
    if (!isRoutable(server)) continue;
    const load = loadWith(server, server.running + server.waiting, policy);
    used += load * server.capacity;
    capacity += server.capacity;
    if (load < 1) safeServers++;
  }
  return { shard, used, capacity, safeServers, updatedAt: now };
}

/**
 * The fleet-wide load and whether any server is safe, from every shard's totals. A shard whose totals are
 * older than `maxAgeMs` is left out (its heartbeat is down: its servers are as good as unavailable).
 */
export function fleetObservation(
  totals: readonly ShardTotals[],
  now: number,
  maxAgeMs: number,
): { readonly load: number; readonly anySafe: boolean } {
  let used = 0;
  let capacity = 0;
  let safe = 0;
  for (const shard of totals) {
    if (now - shard.updatedAt > maxAgeMs) continue;
    used += shard.used;
    capacity += shard.capacity;
    safe += shard.safeServers;
  }
  return { load: capacity === 0 ? Number.POSITIVE_INFINITY : used / capacity, anySafe: safe > 0 };
}

/**
 * The next view of one shard from its servers' fresh reports, the other shards' totals and its previous
 * view. Every shard's worker runs this same function on (nearly) the same totals, so each view carries a
 * replica of one fleet-wide mode. The mode follows the smoothed fleet load: normal → shed_free when it
 * reaches shedFreeAt; shed_free → normal only after it stayed below shedFreeAt for the cool-down;
 * saturated while it is at or above saturatedAt, when no server is available, or when no server has been
 * safe for two heartbeats in a row (free stays shed through saturation, so the cool-down is not skipped).
 * While shedding, the free admit ratio steps down when the load is above the target and back up below it.
 * `others`: the other shards' totals (without this shard's); absent for a fleet of one shard.
 */
export function nextFleetState(
  previous: FleetState | undefined,
  reports: readonly ServerLoad[],
  now: number,
  policy: FleetPolicy,
  others: {
    readonly shard: number;
    readonly totals: readonly ShardTotals[];
    /** Other shards' totals older than this are left out. Default staleAfterMs. */
    readonly maxAgeMs?: number;
  } = { shard: 0, totals: [] },
): FleetState {
  const servers = withCompletionRates(previous?.servers, reports);
  const totals = shardTotals(others.shard, servers, now, policy);
  const fleet = fleetObservation(
    [totals, ...others.totals.filter((shard) => shard.shard !== others.shard)],
    now,
    others.maxAgeMs ?? policy.staleAfterMs,
  );
  const load = fleet.load;
  const smoothedLoad = smooth(previous, load, now, policy);
  const noSafeSince = fleet.anySafe ? undefined : (previous?.noSafeSince ?? now);
  const wasShedding = previous !== undefined && previous.mode !== 'normal';
  const version = (previous?.version ?? 0) + 1;

  const saturated =
    !Number.isFinite(load) ||
    smoothedLoad >= policy.saturatedAt ||
    (noSafeSince !== undefined && noSafeSince < now && previous?.noSafeSince !== undefined);
  const aboveShed = smoothedLoad >= policy.shedFreeAt;
  const base = {
    shard: others.shard,
    totals,
    load,
    smoothedLoad,
    updatedAt: now,
    version,
    servers,
    ...(noSafeSince ? { noSafeSince } : {}),
  };

  if (!wasShedding && !aboveShed && !saturated) return { ...base, mode: 'normal', freeAdmitRatio: 1 };

  const shedSince = wasShedding ? (previous?.shedSince ?? now) : now;
  const belowSince = aboveShed || saturated ? undefined : (previous?.belowSince ?? now);
  const freeReturnsAt = (belowSince ?? now) + policy.freeCooldownMs;
  if (!saturated && belowSince !== undefined && now >= freeReturnsAt) {
    return { ...base, mode: 'normal', freeAdmitRatio: 1 };
  }

  // Per-server ceilings already keep free prompts off the places premium needs; the ratio only damps the
  // overshoot of many containers admitting from the same view, so it starts at 1 and follows the target.
  const previousRatio = wasShedding ? (previous?.freeAdmitRatio ?? 1) : 1;
  const freeAdmitRatio =
    saturated || smoothedLoad > policy.targetLoad
      ? Math.max(RATIO_FLOOR, previousRatio * RATIO_DECREASE)
      : Math.min(1, Math.max(previousRatio * RATIO_INCREASE, previousRatio + RATIO_MIN_STEP));

  return {
    ...base,
    mode: saturated ? 'saturated' : 'shed_free',
    freeAdmitRatio,
    shedSince,
    ...(belowSince !== undefined ? { belowSince } : {}),
    freeReturnsAt,
  };
}

/** Exponential smoothing with the policy's time constant; an infinite load (no server) is taken at once. */
function smooth(previous: FleetState | undefined, load: number, now: number, policy: FleetPolicy): number {
  if (previous === undefined || policy.loadSmoothingMs <= 0) return load;
  const last = previous.smoothedLoad;
  if (!Number.isFinite(last) || !Number.isFinite(load)) return load;
  const weight = 1 - Math.exp(-Math.max(0, now - previous.updatedAt) / policy.loadSmoothingMs);
  return settle(last + weight * (load - last));
}

export type AdmissionDecision =
  | { readonly admitted: true }
  | { readonly admitted: false; readonly reason: 'free_shed' | 'saturated' | 'no_fleet_data' };

/**
 * Admission for one prompt. `random` is uniform in [0,1): free prompts are admitted with the view's
 * ratio while shedding, so many containers sharing one stale view still admit a steady share.
 * Only the absence of any view refuses everyone; an old view does not (static stability): its mode still
 * sheds free tier, and routing, more conservative as the view ages, decides the rest.
 */
export function admit(state: FleetState | undefined, tier: Tier, random: number): AdmissionDecision {
  if (!state) return { admitted: false, reason: 'no_fleet_data' };
  // Saturated means no server below its safe threshold. Free tier is refused outright; a premium prompt goes
  // on to routing, which refuses it exactly when no server is safe in this container's freshest estimate
  // (the view is up to a heartbeat old and blind to the slots freed since).
  const { sheddable } = ENTITLEMENTS[tier];
  if (state.mode === 'saturated' && sheddable) return { admitted: false, reason: 'saturated' };
  if (state.mode === 'shed_free' && sheddable && random >= state.freeAdmitRatio) {
    return { admitted: false, reason: 'free_shed' };
  }
  return { admitted: true };
}
