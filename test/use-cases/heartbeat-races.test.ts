import { describe, expect, it } from 'vitest';
import type { FleetState } from '../../domain/fleet';
import {
  FleetStateContendedError,
  HeartbeatWorker,
  RegistryUnavailableError,
} from '../../use-cases/heartbeat-tick';
import { runHeartbeatTick, servers, setup } from './support/heartbeat-fakes';

describe('HeartbeatWorker.tick: races and the registry', () => {
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
