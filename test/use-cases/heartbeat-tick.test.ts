import { describe, expect, it } from 'vitest';
import { defaultFleetPolicy, type FleetPolicy, type FleetState, type ServerLoad } from '../../domain/fleet';
import type {
  FleetRepository,
  InferenceServer,
  LoadProbe,
  Log,
  RegisteredServer,
  ServerRegistry,
} from '../../domain/ports';
import {
  FleetStateContendedError,
  type HeartbeatDeps,
  HeartbeatWorker,
  RegistryUnavailableError,
} from '../../use-cases/heartbeat-tick';

/** One tick of a worker that has just started (reads the registry, then ticks). */
const runHeartbeatTick = (deps: HeartbeatDeps) => new HeartbeatWorker(deps).tick();

type Configured = InferenceServer & { readonly capacity: number };

class FakeClock {
  constructor(public t = 1_750_000_000_000) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** Each server answers what the test last set: counts, a failure, or a thrown error. */
class FakeProbe implements LoadProbe {
  readonly answers = new Map<string, Partial<ServerLoad> | 'down' | 'throws'>();
  constructor(private readonly clock: FakeClock) {}

  async probe(server: Configured): Promise<ServerLoad> {
    await Promise.resolve();
    const answer = this.answers.get(server.id) ?? { running: 0, waiting: 0 };
    if (answer === 'throws') throw new Error('adapter bug');
    const base = { ...server, running: 0, waiting: 0, updatedAt: this.clock.now() };
    if (answer === 'down') return { ...base, healthy: false };
    return { ...base, healthy: true, ...answer };
  }
}

/** The port's contract in memory (shard 0's view): atomic compare-and-set on the version; hooks to lose races. */
class InMemoryFleet implements FleetRepository {
  state: FleetState | undefined;
  readonly writes: FleetState[] = [];
  saveAttempts = 0;
  /** Runs before a saveView compares versions: a concurrent heartbeat can write here. */
  beforeSave: ((fleet: InMemoryFleet) => void) | undefined;

  async getView(): Promise<FleetState | undefined> {
    await Promise.resolve();
    return this.state;
  }

  async getShardTotals() {
    await Promise.resolve();
    return this.state ? [this.state.totals] : [];
  }

  async saveView(state: FleetState, expectedVersion: number | undefined): Promise<boolean> {
    await Promise.resolve();
    this.saveAttempts++;
    this.beforeSave?.(this);
    if (this.state?.version !== expectedVersion) return false;
    this.state = state;
    this.writes.push(state);
    return true;
  }
}

/** The registry in memory: every server in shard 0 of 1; `failing` makes reads throw. */
class InMemoryRegistry implements Pick<ServerRegistry, 'listShard'> {
  failing = false;
  reads = 0;
  constructor(public servers: RegisteredServer[]) {}
  async listShard(): Promise<RegisteredServer[]> {
    await Promise.resolve();
    this.reads++;
    if (this.failing) throw new Error('ThrottlingException');
    return this.servers;
  }
}

class CapturingLog implements Log {
  readonly entries: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  info = (message: string, ...extra: Record<string, unknown>[]) => this.push('info', message, extra);
  warn = (message: string, ...extra: Record<string, unknown>[]) => this.push('warn', message, extra);
  error = (message: string, ...extra: Record<string, unknown>[]) => this.push('error', message, extra);
  private push(level: string, message: string, extra: Record<string, unknown>[]) {
    this.entries.push({ level, message, extra: Object.assign({}, ...extra) });
  }
  messages() {
    return this.entries.map((entry) => `${entry.level}: ${entry.message}`);
  }
}

// Unsmoothed: each tick's load acts at once, so thresholds are exact.
const policy: FleetPolicy = {
  ...defaultFleetPolicy,
  freeCooldownMs: 10_000,
  staleAfterMs: 3_000,
  loadSmoothingMs: 0,
};

const servers: RegisteredServer[] = [
  { id: 'gpu-1', baseUrl: 'http://10.0.0.1:8000', capacity: 10, status: 'active' },
  { id: 'gpu-2', baseUrl: 'http://10.0.0.2:8000', capacity: 10, status: 'active' },
];

function setup(overrides: Partial<HeartbeatDeps> = {}) {
  const clock = new FakeClock();
  const probe = new FakeProbe(clock);
  const fleet = new InMemoryFleet();
  const log = new CapturingLog();
  const registry = new InMemoryRegistry(servers);
  const deps: HeartbeatDeps = {
    shard: 0,
    shards: 1,
    registry,
    probe,
    fleet,
    clock,
    policy,
    log,
    ...overrides,
  };
  const tick = () => runHeartbeatTick(deps);
  const load = (id: string, running: number, waiting = 0) => probe.answers.set(id, { running, waiting });
  return { clock, probe, fleet, log, deps, tick, load, registry };
}

describe('HeartbeatWorker.tick', () => {
  it('probes every server, saves their loads, and writes the first state as version 1', async () => {
    // Prepare
    const { fleet, tick, load } = setup();
    load('gpu-1', 2, 1);
    load('gpu-2', 1);

    // Act
    const state = await tick();

    // Assess
    expect(state).toMatchObject({ mode: 'normal', load: 0.2, freeAdmitRatio: 1, version: 1 });
    expect(fleet.state).toEqual(state);
    expect(state.servers.map((s) => [s.id, s.running, s.waiting, s.healthy])).toEqual([
      ['gpu-1', 2, 1, true],
      ['gpu-2', 1, 0, true],
    ]);
  });

  it('sheds free tier exactly at SHED_FREE_AT and logs the change with numbers only', async () => {
    // Prepare
    const { tick, load, clock, log } = setup();
    load('gpu-1', 8);
    load('gpu-2', 7); // 15 / 20 = 0.75
    const below = await tick();
    clock.advance(1000);
    load('gpu-2', 6, 2); // 16 / 20 = 0.8

    // Act
    const at = await tick();

    // Assess
    expect(below.mode).toBe('normal');
    expect(at).toMatchObject({ mode: 'shed_free', load: 0.8, version: 2, shedSince: clock.t });
    const change = log.entries.filter((entry) => entry.message === 'fleet mode changed');
    expect(change.map((entry) => entry.level)).toEqual(['info', 'info']);
    expect(change[1]?.extra).toEqual({
      from: 'normal',
      to: 'shed_free',
      shard: 0,
      shards: 1,
      load: 0.8,
      free_admit_ratio: at.freeAdmitRatio,
      servers: 2,
      unhealthy: [],
      shard_used: 16,
      shard_capacity: 20,
      version: 2,
    });
  });

  it('logs nothing while the mode stays the same', async () => {
    // Prepare
    const { tick, clock, log } = setup();
    await tick();
    log.entries.length = 0;
    clock.advance(1000);

    // Act
    await tick();

    // Assess
    expect(log.entries).toEqual([]);
  });

  it('brings free tier back only after the load stayed below the threshold for the whole cool-down', async () => {
    // Prepare
    const { tick, load, clock } = setup();
    load('gpu-1', 9);
    load('gpu-2', 9);
    await tick(); // 0.9: shed
    clock.advance(1000);
    load('gpu-1', 5);
    load('gpu-2', 5); // 0.5: below since now
    const belowAt = clock.t;
    const firstBelow = await tick();
    clock.advance(policy.freeCooldownMs - 1);
    const justBefore = await tick();
    clock.advance(1);

    // Act
    const atCooldown = await tick();

    // Assess
    expect(firstBelow).toMatchObject({ mode: 'shed_free', belowSince: belowAt });
    expect(firstBelow.freeReturnsAt).toBe(belowAt + policy.freeCooldownMs);
    expect(justBefore.mode).toBe('shed_free');
    expect(atCooldown.mode).toBe('normal');
    expect(atCooldown.freeAdmitRatio).toBe(1);
  });

  it('restarts the cool-down when the load climbs back over the threshold', async () => {
    // Prepare
    const { tick, load, clock } = setup();
    load('gpu-1', 9);
    load('gpu-2', 9);
    await tick();
    clock.advance(1000);
    load('gpu-2', 1); // 0.5
    await tick();
    clock.advance(5000);
    load('gpu-2', 8); // 0.85 again
    await tick();
    clock.advance(1000);
    load('gpu-2', 1); // below again
    const secondBelowAt = clock.t;
    await tick();
    clock.advance(policy.freeCooldownMs - 1);

    // Act
    const stillShedding = await tick();

    // Assess
    expect(stillShedding).toMatchObject({ mode: 'shed_free', belowSince: secondBelowAt });
  });

  it('marks a killed server unhealthy with no numbers, and counts only the others', async () => {
    // Prepare
    const { tick, load, probe, clock, log, fleet } = setup();
    load('gpu-1', 4);
    load('gpu-2', 6);
    await tick();
    clock.advance(1000);
    probe.answers.set('gpu-2', 'down');

    // Act
    const state = await tick();

    // Assess
    const gpu2 = state.servers.find((server) => server.id === 'gpu-2');
    expect(gpu2).toEqual({
      id: 'gpu-2',
      baseUrl: 'http://10.0.0.2:8000',
      running: 0,
      waiting: 0,
      capacity: 10,
      healthy: false,
      updatedAt: clock.t,
    });
    expect(fleet.state?.servers.find((server) => server.id === 'gpu-2')).toEqual(gpu2);
    expect(state.load).toBe(0.4); // 4 / 10: gpu-2's capacity no longer counts
    expect(log.entries).toContainEqual({
      level: 'warn',
      message: 'inference server unhealthy',
      extra: { server: 'gpu-2' },
    });
  });

  it('logs a server coming back', async () => {
    // Prepare
    const { tick, probe, clock, log } = setup();
    probe.answers.set('gpu-1', 'down');
    await tick();
    clock.advance(1000);
    probe.answers.delete('gpu-1');

    // Act
    await tick();

    // Assess
    expect(log.messages()).toContain('info: inference server recovered');
  });

  it('drops the numbers a probe returns with healthy=false, and survives a probe that throws', async () => {
    // Prepare
    const { tick, probe } = setup();
    probe.answers.set('gpu-1', { running: 9, waiting: 9, kvCacheUsage: 0.99, healthy: false });
    probe.answers.set('gpu-2', 'throws');

    // Act
    const state = await tick();

    // Assess
    expect(state.servers.map((server) => [server.healthy, server.running, server.waiting])).toEqual([
      [false, 0, 0],
      [false, 0, 0],
    ]);
    expect(state.servers[0]).not.toHaveProperty('kvCacheUsage');
    expect(state.mode).toBe('saturated');
    expect(state.load).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps the configured id, URL and capacity whatever the probe returns', async () => {
    // Prepare
    const { tick, probe } = setup();
    probe.answers.set('gpu-1', { id: 'other', baseUrl: 'http://elsewhere', capacity: 99, running: 1 });

    // Act
    const state = await tick();

    // Assess
    expect(state.servers[0]).toMatchObject({ id: 'gpu-1', baseUrl: 'http://10.0.0.1:8000', capacity: 10 });
  });

  it('keeps a healthy server whose report is older than staleAfterMs in the totals: a slow tick does not empty the fleet', async () => {
    // Prepare: gpu-1 answered healthy, but its report is older than a view's staleness (a loaded heartbeat)
    const { tick, probe, clock } = setup();
    probe.answers.set('gpu-1', { running: 1, updatedAt: clock.t - policy.staleAfterMs - 1 });
    probe.answers.set('gpu-2', { running: 3 });

    // Act
    const state = await tick();

    // Assess: its capacity still counts (it used to be dropped, and two such servers made the fleet "saturated")
    expect(state.load).toBe(0.2);
    expect(state.totals).toMatchObject({ capacity: 20, safeServers: 2 });
    expect(state.mode).toBe('normal');
  });

  it('drops an unhealthy server from the totals', async () => {
    // Prepare
    const { tick, probe } = setup();
    probe.answers.set('gpu-1', { running: 1, healthy: false });
    probe.answers.set('gpu-2', { running: 3 });

    // Act
    const state = await tick();

    // Assess
    expect(state.load).toBe(0.3);
    expect(state.totals).toMatchObject({ capacity: 10, safeServers: 1 });
  });

  it('saturates when the load reaches SATURATED_AT, and when KV caches are full', async () => {
    // Prepare
    const full = setup();
    full.load('gpu-1', 10);
    full.load('gpu-2', 8, 2);
    const kv = setup();
    kv.probe.answers.set('gpu-1', { running: 1, kvCacheUsage: 0.95 });
    kv.probe.answers.set('gpu-2', { running: 1, kvCacheUsage: 0.9 });

    // Act
    const byQueue = await full.tick();
    const byKv = await kv.tick();

    // Assess
    expect(byQueue).toMatchObject({ mode: 'saturated', load: 1 });
    expect(byKv.mode).toBe('saturated');
  });

  it('saturates when every server is down, with an infinite load', async () => {
    // Prepare
    const { tick, probe } = setup();
    probe.answers.set('gpu-1', 'down');
    probe.answers.set('gpu-2', 'down');

    // Act
    const state = await tick();

    // Assess
    expect(state).toMatchObject({ mode: 'saturated', load: Number.POSITIVE_INFINITY });
  });

  it('after losing a race to an older state, recomputes from it and writes the next version', async () => {
    // Prepare
    const { tick, fleet, clock, load } = setup();
    await tick();
    clock.advance(1000);
    const olderScrape = clock.t - 1;
    fleet.beforeSave = (f) => {
      fleet.beforeSave = undefined;
      const current = f.state;
      if (!current) throw new Error('no state');
      // Another run, whose scrape started before ours, wrote shed_free in between.
      f.state = { ...current, mode: 'shed_free', shedSince: olderScrape, updatedAt: olderScrape, version: 2 };
    };
    load('gpu-1', 1);

    // Act
    const state = await tick();

    // Assess
    expect(state.version).toBe(3);
    expect(state.mode).toBe('shed_free'); // the hysteresis went on from the winner's state
    expect(state.shedSince).toBe(olderScrape);
    expect(fleet.state).toEqual(state);
    expect(fleet.saveAttempts).toBe(3);
  });

  it('after losing a race to a state computed from a fresher scrape, keeps it without writing', async () => {
    // Prepare
    const { tick, fleet, clock } = setup();
    await tick();
    clock.advance(1000);
    let winner: FleetState | undefined;
    fleet.beforeSave = (f) => {
      fleet.beforeSave = undefined;
      const current = f.state;
      if (!current) throw new Error('no state');
      winner = { ...current, updatedAt: clock.t, version: 2 };
      f.state = winner;
    };

    // Act
    const state = await tick();

    // Assess
    expect(state).toBe(winner);
    expect(fleet.writes.map((write) => write.version)).toEqual([1]);
    expect(fleet.saveAttempts).toBe(2);
  });

  it('gives up after the bounded number of lost races', async () => {
    // Prepare
    const { deps, fleet, clock } = setup({ maxAttempts: 3 });
    await runHeartbeatTick(deps);
    clock.advance(1000);
    fleet.beforeSave = (f) => {
      const current = f.state;
      if (!current) throw new Error('no state');
      // Always someone else first, with an older view.
      f.state = { ...current, updatedAt: clock.t - 500, version: current.version + 1 };
    };

    // Act
    const act = runHeartbeatTick(deps);

    // Assess
    await expect(act).rejects.toThrow(FleetStateContendedError);
    expect(fleet.saveAttempts).toBe(1 + 3);
  });

  it('keeps the state consistent when several runs tick concurrently', async () => {
    // Prepare
    const runs = [setup(), setup(), setup()];
    const [first] = runs;
    if (!first) throw new Error('no run');
    const shared = first.fleet;
    const clock = first.clock;
    const runDeps = runs.map((run) => ({ ...run.deps, fleet: shared, clock }));
    first.load('gpu-1', 9);
    first.load('gpu-2', 9);
    for (const run of runDeps) run.probe = first.probe;

    // Act
    const rounds: FleetState[][] = [];
    for (let round = 0; round < 4; round++) {
      rounds.push(await Promise.all(runDeps.map((deps) => runHeartbeatTick(deps))));
      clock.advance(1000);
    }

    // Assess
    const versions = shared.writes.map((write) => write.version);
    expect(versions).toEqual(versions.map((_, i) => i + 1)); // no version skipped or written twice
    expect(versions).toHaveLength(4); // one write per round: the others kept the fresh winner
    for (const round of rounds) expect(new Set(round.map((state) => state.version)).size).toBe(1);
    expect(shared.state?.mode).toBe('shed_free');
  });

  it('marks draining servers, and leaves their capacity out of the fleet load', async () => {
    const { deps, load, registry } = setup();
    registry.servers = servers.map((server) =>
      server.id === 'gpu-2' ? { ...server, status: 'draining' } : server,
    );
    load('gpu-1', 5);
    load('gpu-2', 0);
    const state = await runHeartbeatTick(deps);
    expect(state.servers.find((server) => server.id === 'gpu-2')?.draining).toBe(true);
    expect(state.load).toBeCloseTo(0.5, 5);
  });

  it('keeps the last server list when the registry fails, and refuses to write before it ever read it', async () => {
    // Prepare
    const { deps, registry, clock, fleet } = setup({ registryRefreshMs: 1000 });
    const worker = new HeartbeatWorker(deps);
    await worker.tick();
    registry.failing = true;
    clock.advance(5000);
    // Act
    const state = await worker.tick();
    // Assess: same servers, a fresh view
    expect(state.servers.map((server) => server.id)).toEqual(['gpu-1', 'gpu-2']);
    expect(state.version).toBe(2);
    const cold = new HeartbeatWorker(deps);
    await expect(cold.tick()).rejects.toThrow(RegistryUnavailableError);
    expect(fleet.writes).toHaveLength(2);
  });

  it('re-reads the registry once per refresh period, so an added server appears within it', async () => {
    const { deps, registry, clock } = setup({ registryRefreshMs: 2000 });
    const worker = new HeartbeatWorker(deps);
    await worker.tick();
    registry.servers = [
      ...servers,
      { id: 'gpu-3', baseUrl: 'http://10.0.0.3:8000', capacity: 10, status: 'active' },
    ];
    clock.advance(500);
    expect((await worker.tick()).servers).toHaveLength(2);
    clock.advance(1500);
    expect((await worker.tick()).servers).toHaveLength(3);
    expect(registry.reads).toBe(2);
  });

  it('keeps a server whose scrape failed on its last good report for a grace period, then marks it unhealthy', async () => {
    // Prepare
    const { deps, probe, clock, load } = setup({ unhealthyAfterMs: 2_000 });
    const worker = new HeartbeatWorker(deps);
    load('gpu-1', 4);
    const scrapedAt = clock.now();
    await worker.tick();
    probe.answers.set('gpu-1', 'down');

    // Act
    clock.advance(1_000);
    const during = await worker.tick();
    clock.advance(1_000);
    const after = await worker.tick();

    // Assess: one slow scrape keeps the server, aging; a server silent past the grace is out
    expect(during.servers[0]).toMatchObject({ id: 'gpu-1', healthy: true, running: 4, updatedAt: scrapedAt });
    expect(after.servers[0]).toMatchObject({ id: 'gpu-1', healthy: false, running: 0 });
  });
});
