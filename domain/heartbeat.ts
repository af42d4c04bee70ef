/**
 * One heartbeat tick: scrape every inference server, record their loads, and move the fleet state
 * (normal / shed_free / saturated, see fleet.ts) forward under optimistic concurrency.
 *
 * Overlapping heartbeat runs (an EventBridge invocation starting while the previous one still loops, or
 * a duplicate delivery) are expected: the state is written only if its version did not change since it
 * was read. The loser of a race re-reads; when the winner's state was computed after the loser's scrape
 * started, it comes from the same tick and the loser keeps it (writing again would step the free admit
 * ratio twice for one observation); otherwise the loser recomputes from the winner's state and tries
 * again, a bounded number of times.
 */
import { type FleetPolicy, type FleetState, isAvailable, nextFleetState, type ServerLoad } from './fleet';
import type { Clock, FleetRepository, InferenceServer, LoadProbe, Log } from './ports';

export interface HeartbeatDeps {
  readonly servers: readonly (InferenceServer & { readonly capacity: number })[];
  readonly probe: LoadProbe;
  readonly fleet: FleetRepository;
  readonly clock: Clock;
  readonly policy: FleetPolicy;
  readonly log: Log;
  /** Conditional writes tried before giving up to a concurrent run. Default 3. */
  readonly maxAttempts?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 3;

/** Thrown when every attempt lost the race and no fresher state could be kept. */
export class FleetStateContendedError extends Error {
  override readonly name = 'FleetStateContendedError';
}

/** Probes all servers in parallel, saves their loads, then advances and saves the fleet state. */
export async function runHeartbeatTick(deps: HeartbeatDeps): Promise<FleetState> {
  const { fleet, clock, policy, log } = deps;
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const scrapeStartedAt = clock.now();
  const servers = await probeAll(deps);
  await fleet.saveServers(servers);

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const previous = await fleet.getState();
    if (attempt > 1 && previous !== undefined && previous.updatedAt >= scrapeStartedAt) {
      // A concurrent run wrote a state for this same tick: keep it rather than step the hysteresis twice.
      return previous;
    }
    const next = nextFleetState(previous, servers, clock.now(), policy);
    if (await fleet.saveState(next, previous?.version)) {
      logChanges(log, previous, next, policy);
      return next;
    }
  }
  throw new FleetStateContendedError(`Fleet state still contended after ${maxAttempts} attempts`);
}

/** Every server's load; a failed scrape keeps no numbers (healthy=false, zero counts, no KV). */
async function probeAll(deps: HeartbeatDeps): Promise<ServerLoad[]> {
  const { servers, probe, clock } = deps;
  return Promise.all(
    servers.map(async (server): Promise<ServerLoad> => {
      let load: ServerLoad;
      try {
        load = await probe.probe(server);
      } catch {
        // The port promises not to throw; a faulty adapter must not stop the heartbeat either.
        load = { ...unhealthy(server), updatedAt: clock.now() };
      }
      // The configuration, not the probe, owns the server's identity and capacity.
      const known = { ...load, id: server.id, baseUrl: server.baseUrl, capacity: server.capacity };
      return known.healthy ? known : { ...unhealthy(server), updatedAt: known.updatedAt };
    }),
  );
}

function unhealthy(server: InferenceServer & { readonly capacity: number }): Omit<ServerLoad, 'updatedAt'> {
  return {
    id: server.id,
    baseUrl: server.baseUrl,
    running: 0,
    waiting: 0,
    capacity: server.capacity,
    healthy: false,
  };
}

/** A finite number for logs (JSON has no Infinity). */
const loggable = (value: number) => (Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null);

/** Mode changes at info, servers going down or coming back at warn/info; ids and numbers only. */
function logChanges(log: Log, previous: FleetState | undefined, next: FleetState, policy: FleetPolicy): void {
  const now = next.updatedAt;
  const wasHealthy = new Map(previous?.servers.map((server) => [server.id, server.healthy]) ?? []);
  for (const server of next.servers) {
    const before = wasHealthy.get(server.id);
    if (server.healthy && before === false) log.info('inference server recovered', { server: server.id });
    if (!server.healthy && before !== false) log.warn('inference server unhealthy', { server: server.id });
  }
  if (previous?.mode === next.mode) return;
  const available = next.servers.filter((server) => isAvailable(server, now, policy));
  log.info('fleet mode changed', {
    from: previous?.mode ?? null,
    to: next.mode,
    load: loggable(next.load),
    free_admit_ratio: loggable(next.freeAdmitRatio),
    servers: next.servers.length,
    available: available.length,
    unhealthy: next.servers.filter((server) => !server.healthy).map((server) => server.id),
    running: available.reduce((sum, server) => sum + server.running, 0),
    waiting: available.reduce((sum, server) => sum + server.waiting, 0),
    capacity: available.reduce((sum, server) => sum + server.capacity, 0),
    version: next.version,
  });
}
