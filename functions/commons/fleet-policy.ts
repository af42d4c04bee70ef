import { type BackoffPolicy, defaultBackoffPolicy } from '../../contract/backoff';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS, defaultFleetPolicy, type FleetPolicy } from '../../domain/fleet';
import { validateShardCount } from '../../domain/fleet-shards';
import type { AdmissionPolicy } from '../../use-cases/fleet-gate';
import { getNumberFromEnv, getOptionalStringFromEnv } from './env';

/** ADMISSION_POLICY = load_based (default) | static_reservation (+ PREMIUM_RESERVED_SERVERS, 1) | admit_all. */
export function admissionPolicyFromEnv(): AdmissionPolicy {
  const kind = getOptionalStringFromEnv('ADMISSION_POLICY', 'load_based');
  switch (kind) {
    case 'load_based':
    case 'admit_all':
      return { kind };
    case 'static_reservation':
      return { kind, reservedServers: getNumberFromEnv('PREMIUM_RESERVED_SERVERS', 1) };
    default:
      throw new Error(`ADMISSION_POLICY must be load_based, static_reservation or admit_all, got "${kind}".`);
  }
}

/** Heartbeat period; the chat function reuses one fleet-state read for at most this long. */
export function heartbeatIntervalMs(): number {
  return getNumberFromEnv('HEARTBEAT_INTERVAL_SECONDS', DEFAULT_HEARTBEAT_INTERVAL_SECONDS) * 1000;
}

/**
 * HEARTBEAT_PROBE_TIMEOUT_MS: one /metrics scrape. Half the interval, but within 250–500 ms: a busy server
 * answering in 200 ms is alive (a failed scrape keeps its last report for a while anyway), and a tick
 * waiting on a hung one only slips.
 */
export function heartbeatProbeTimeoutMs(): number {
  return getNumberFromEnv(
    'HEARTBEAT_PROBE_TIMEOUT_MS',
    Math.min(500, Math.max(250, heartbeatIntervalMs() / 2)),
  );
}

/**
 * FLEET_SHARDS: heartbeat shards, one view item each (domain/fleet-shards.ts); 1, 2, 4 … 64. Default 1
 * (one view holds the whole fleet: right up to a few dozen servers); CDK sets it from the `fleetShards`
 * context. The heartbeat and the chat function must agree on it.
 */
export function fleetShardsFromEnv(): number {
  return validateShardCount(getNumberFromEnv('FLEET_SHARDS', 1));
}

/** The thresholds shared by the heartbeat (which computes the mode) and the chat function (which admits). */
export function fleetPolicyFromEnv(): FleetPolicy {
  const intervalMs = heartbeatIntervalMs();
  const policy: FleetPolicy = {
    ...defaultFleetPolicy,
    shedFreeAt: getNumberFromEnv('SHED_FREE_AT', defaultFleetPolicy.shedFreeAt),
    saturatedAt: getNumberFromEnv('SATURATED_AT', defaultFleetPolicy.saturatedAt),
    freeCooldownMs:
      getNumberFromEnv('FREE_COOLDOWN_SECONDS', defaultFleetPolicy.freeCooldownMs / 1000) * 1000,
    // A report older than three heartbeats means the server (or the heartbeat) is gone.
    staleAfterMs: getNumberFromEnv('SERVER_STALE_SECONDS', (3 * intervalMs) / 1000) * 1000,
    distrustAfterMs:
      getNumberFromEnv('VIEW_DISTRUST_SECONDS', defaultFleetPolicy.distrustAfterMs / 1000) * 1000,
  };
  if (policy.shedFreeAt > policy.saturatedAt) {
    throw new Error(
      `SHED_FREE_AT (${policy.shedFreeAt}) must not be above SATURATED_AT (${policy.saturatedAt}).`,
    );
  }
  return policy;
}

export function backoffPolicyFromEnv(): BackoffPolicy {
  return {
    ...defaultBackoffPolicy,
    premiumSeconds: getNumberFromEnv('PREMIUM_RETRY_AFTER_SECONDS', defaultBackoffPolicy.premiumSeconds),
    freeBaseSeconds: getNumberFromEnv('FREE_RETRY_AFTER_BASE_SECONDS', defaultBackoffPolicy.freeBaseSeconds),
    freeCapSeconds: getNumberFromEnv('FREE_RETRY_AFTER_CAP_SECONDS', defaultBackoffPolicy.freeCapSeconds),
  };
}
