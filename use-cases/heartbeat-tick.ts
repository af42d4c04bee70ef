/**
 * One heartbeat worker: owns one shard of the fleet (domain/fleet-shards.ts). Each tick it scrapes its
 * shard's servers, reads every shard's totals, and moves its shard's view (servers + the replicated
 * fleet-wide mode, see fleet.ts) forward under optimistic concurrency.
 *
 * Static stability: the registry is re-read every registryRefreshMs, and a failed read keeps the last list
 * (servers do not vanish because the registry hiccupped); failed totals reads keep the last totals seen;
 * only a failed write of the view fails the tick, and the caller's loop goes on with the next one.
 *
 * Overlapping runs of the same shard (an EventBridge invocation starting while the previous one still
 * loops, or a duplicate delivery) are expected: the view is written only if its version did not change
 * since it was read. The loser of a race re-reads; when the winner's view was computed after the loser's
 * scrape started, it comes from the same tick and the loser keeps it (writing again would step the free
 * admit ratio twice for one observation); otherwise the loser recomputes from it, a bounded number of times.
 */
import { errorName } from '../domain/errors';
import {
  type FleetPolicy,
  type FleetState,
  nextFleetState,
  type ServerLoad,
  type ShardTotals,
} from '../domain/fleet';
import type {
  Clock,
  FleetRepository,
  LoadProbe,
  Log,
  RegisteredServer,
  ServerRegistry,
} from '../domain/ports';

export interface HeartbeatDeps {
  readonly shard: number;
  readonly shards: number;
  readonly registry: Pick<ServerRegistry, 'listShard'>;
  readonly probe: LoadProbe;
  readonly fleet: FleetRepository;
  readonly clock: Clock;
  readonly policy: FleetPolicy;
  readonly log: Log;
  /** How often the registry is re-read (a server added or drained takes effect within this). Default 2 s. */
  readonly registryRefreshMs?: number;
  /**
   * How often the other shards' totals are read. Every worker reads every shard's view, so this costs
   * shards² reads per period: at 64 shards and 1 s, 4,096 reads (2,048 RRU) a second. The mode follows a
   * load smoothed over seconds, so a second-old view of the other shards changes nothing. Default 1 s.
   */
  readonly totalsRefreshMs?: number;
  /** Conditional writes tried before giving up to a concurrent run. Default 3. */
  readonly maxAttempts?: number;
  /**
   * How long a server whose scrapes fail keeps its last good report (aging, so routing trusts it less)
   * before it is marked unhealthy. One slow scrape on a busy heartbeat must not take a healthy server
   * out of every view; a dead one is also caught by the chat function's failover. Default 2 s.
   */
  readonly unhealthyAfterMs?: number;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_REGISTRY_REFRESH_MS = 2_000;
export const DEFAULT_TOTALS_REFRESH_MS = 1_000;
export const DEFAULT_UNHEALTHY_AFTER_MS = 2_000;

/** Thrown when every attempt lost the race and no fresher view could be kept. */
export class FleetStateContendedError extends Error {
  override readonly name = 'FleetStateContendedError';
}

/** Thrown by a tick before the registry was ever read: writing an empty view would hide the shard's servers. */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
}

export class HeartbeatWorker {
  private servers: readonly RegisteredServer[] | undefined;
  private listedAt = Number.NEGATIVE_INFINITY;
  private totalsReadAt = Number.NEGATIVE_INFINITY;
  private readonly totals = new Map<number, ShardTotals>();
  /** Each server's last good report, kept through a few failed scrapes. */
  private readonly lastGood = new Map<string, ServerLoad>();

  constructor(private readonly deps: HeartbeatDeps) {}

  async tick(signal?: AbortSignal): Promise<FleetState> {
    const { fleet, clock, policy, shard, shards } = this.deps;
    const options = signal ? { signal } : {};
    const scrapeStartedAt = clock.now();
    const servers = await this.registered(options);
    const reports = await this.probeAll(servers);
    await this.readTotals(options);
    // Other shards' totals are up to one refresh older than a fresh report: they count that much longer.
    const others = {
      shard,
      totals: [...this.totals.values()],
      maxAgeMs: policy.staleAfterMs + this.totalsRefreshMs,
    };

    const maxAttempts = this.deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const previous = await fleet.getView(shard, { consistent: true, ...options });
      if (attempt > 1 && previous !== undefined && previous.updatedAt >= scrapeStartedAt) {
        // A concurrent run wrote a view for this same tick: keep it rather than step the hysteresis twice.
        return previous;
      }
      const next = nextFleetState(previous, reports, clock.now(), policy, others);
      if (await fleet.saveView(next, previous?.version, options)) {
        this.totals.set(shard, next.totals);
        logChanges(this.deps.log, previous, next, shards);
        return next;
      }
    }
    throw new FleetStateContendedError(`Fleet view ${shard} still contended after ${maxAttempts} attempts`);
  }

  private async registered(options: { signal?: AbortSignal }): Promise<readonly RegisteredServer[]> {
    const now = this.deps.clock.now();
    const refreshMs = this.deps.registryRefreshMs ?? DEFAULT_REGISTRY_REFRESH_MS;
    if (this.servers === undefined || now - this.listedAt >= refreshMs) {
      try {
        this.servers = await this.deps.registry.listShard(this.deps.shard, this.deps.shards, options);
        this.listedAt = now;
      } catch (error) {
        if (this.servers === undefined) {
          throw new RegistryUnavailableError(`Server registry unreadable: ${errorName(error)}`);
        }
        this.deps.log.warn('server registry read failed; keeping the last list', {
          shard: this.deps.shard,
          servers: this.servers.length,
          error: errorName(error),
        });
      }
    }
    return this.servers;
  }

  /** Every shard's totals; on failure the last ones seen stay (fleetObservation drops them once stale). */
  private get totalsRefreshMs(): number {
    return this.deps.totalsRefreshMs ?? DEFAULT_TOTALS_REFRESH_MS;
  }

  private async readTotals(options: { signal?: AbortSignal }): Promise<void> {
    const now = this.deps.clock.now();
    if (this.deps.shards <= 1 || now - this.totalsReadAt < this.totalsRefreshMs) return;
    this.totalsReadAt = now;
    try {
      for (const totals of await this.deps.fleet.getShardTotals(this.deps.shards, options)) {
        if (totals.shard !== this.deps.shard) this.totals.set(totals.shard, totals);
      }
    } catch (error) {
      this.deps.log.warn('shard totals read failed; using the last ones', {
        shard: this.deps.shard,
        error: errorName(error),
      });
    }
  }

  /**
   * Every server's load. A failed scrape keeps the server's last good report for unhealthyAfterMs (its
   * age shows), then no numbers (healthy=false, zero counts, no KV).
   */
  private async probeAll(servers: readonly RegisteredServer[]): Promise<ServerLoad[]> {
    const reports = await this.scrapeAll(servers);
    const now = this.deps.clock.now();
    const graceMs = this.deps.unhealthyAfterMs ?? DEFAULT_UNHEALTHY_AFTER_MS;
    const registered = new Set(servers.map((server) => server.id));
    for (const id of this.lastGood.keys()) if (!registered.has(id)) this.lastGood.delete(id);
    return reports.map((report) => {
      if (report.healthy) {
        this.lastGood.set(report.id, report);
        return report;
      }
      const last = this.lastGood.get(report.id);
      if (!last || now - last.updatedAt >= graceMs) return report;
      const draining = report.draining ? { draining: true } : {};
      const { draining: _wasDraining, ...kept } = last;
      return { ...kept, ...draining };
    });
  }

  private scrapeAll(servers: readonly RegisteredServer[]): Promise<ServerLoad[]> {
    const { probe, clock } = this.deps;
    return Promise.all(
      servers.map(async (server): Promise<ServerLoad> => {
        let load: ServerLoad;
        try {
          load = await probe.probe(server);
        } catch {
          // The port promises not to throw; a faulty adapter must not stop the heartbeat either.
          load = { ...unhealthy(server), updatedAt: clock.now() };
        }
        // The registry, not the probe, owns the server's identity, capacity and status.
        const draining = server.status === 'draining' ? { draining: true } : {};
        const known = {
          ...load,
          id: server.id,
          baseUrl: server.baseUrl,
          capacity: server.capacity,
          ...draining,
        };
        return known.healthy ? known : { ...unhealthy(server), ...draining, updatedAt: known.updatedAt };
      }),
    );
  }
}

function unhealthy(server: RegisteredServer): Omit<ServerLoad, 'updatedAt'> {
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
function logChanges(log: Log, previous: FleetState | undefined, next: FleetState, shards: number): void {
  const wasHealthy = new Map(previous?.servers.map((server) => [server.id, server.healthy]) ?? []);
  for (const server of next.servers) {
    const before = wasHealthy.get(server.id);
    if (server.healthy && before === false) log.info('inference server recovered', { server: server.id });
    if (!server.healthy && before !== false) log.warn('inference server unhealthy', { server: server.id });
  }
  if (previous?.mode === next.mode) return;
  log.info('fleet mode changed', {
    from: previous?.mode ?? null,
    to: next.mode,
    shard: next.shard,
    shards,
    load: loggable(next.load),
    free_admit_ratio: loggable(next.freeAdmitRatio),
    servers: next.servers.length,
    unhealthy: next.servers.filter((server) => !server.healthy).map((server) => server.id),
    shard_used: loggable(next.totals.used),
    shard_capacity: next.totals.capacity,
    version: next.version,
  });
}
