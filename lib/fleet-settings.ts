import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS, defaultFleetPolicy } from '../domain/fleet';
import { validateShardCount } from '../domain/fleet-shards';

/**
 * The fleet thresholds, read by both the heartbeat (which computes the fleet mode) and the chat function
 * (which admits by it) from the same environment variables (functions/commons/fleet-policy.ts).
 */
export interface FleetSettings {
  /** HEARTBEAT_INTERVAL_SECONDS: seconds between two scrapes of the fleet. */
  readonly heartbeatIntervalSeconds: number;
  /** SHED_FREE_AT: fleet load at which free tier is shed. */
  readonly shedFreeAt: number;
  /** SATURATED_AT: fleet load at which nobody is admitted. */
  readonly saturatedAt: number;
  /** FREE_COOLDOWN_SECONDS: free tier returns after the load stayed below SHED_FREE_AT this long. */
  readonly freeCooldownSeconds: number;
  /**
   * FLEET_SHARDS: heartbeat workers, one view item each (1, 2, 4 … 64; domain/fleet-shards.ts). Size it
   * so a shard holds at most ~40 servers: a view then stays under 4 KB (0.5 RCU per admission) and a
   * worker scrapes its slice well within one interval. 64 covers the 2,300-server target.
   */
  readonly shards: number;
}

/** The documented defaults: domain/fleet.ts `defaultFleetPolicy` and its heartbeat interval. */
export const DEFAULT_FLEET_SETTINGS: FleetSettings = {
  heartbeatIntervalSeconds: DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
  shedFreeAt: defaultFleetPolicy.shedFreeAt,
  saturatedAt: defaultFleetPolicy.saturatedAt,
  freeCooldownSeconds: defaultFleetPolicy.freeCooldownMs / 1000,
  shards: 4,
};

/** The settings given, each unset (or undefined) one at its default. */
export function resolveFleetSettings(settings: Partial<FleetSettings> = {}): FleetSettings {
  const given = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_FLEET_SETTINGS, ...given };
}

/** The fleet settings as the environment both functions read; fails synth on values they would reject. */
export function fleetEnvironment(settings: Partial<FleetSettings> = {}): Record<string, string> {
  const resolved = resolveFleetSettings(settings);
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`Fleet setting ${name} must be a positive number, got ${value}`);
    }
  }
  if (resolved.shedFreeAt >= resolved.saturatedAt) {
    throw new Error(
      `Fleet setting shedFreeAt (${resolved.shedFreeAt}) must be below saturatedAt (${resolved.saturatedAt})`,
    );
  }
  validateShardCount(resolved.shards);
  if (resolved.heartbeatIntervalSeconds > 60) {
    throw new Error('Fleet setting heartbeatIntervalSeconds must be at most 60 (one run per minute)');
  }
  return {
    HEARTBEAT_INTERVAL_SECONDS: String(resolved.heartbeatIntervalSeconds),
    SHED_FREE_AT: String(resolved.shedFreeAt),
    SATURATED_AT: String(resolved.saturatedAt),
    FREE_COOLDOWN_SECONDS: String(resolved.freeCooldownSeconds),
    FLEET_SHARDS: String(resolved.shards),
  };
}
