import { describe, expect, it } from 'vitest';
import { policy, setup } from './support/heartbeat-fakes';

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
});
