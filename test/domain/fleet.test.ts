import { describe, expect, it } from 'vitest';
import {
  admit,
  defaultFleetPolicy,
  type FleetPolicy,
  type FleetState,
  loadWith,
  nextFleetState,
  type ServerLoad,
  settle,
  shardTotals,
  viewTrust,
} from '../../domain/fleet';

// No smoothing here, so each tick's load acts at once; smoothing has its own test.
const policy: FleetPolicy = {
  ...defaultFleetPolicy,
  freeCooldownMs: 10_000,
  staleAfterMs: 3_000,
  loadSmoothingMs: 0,
};

function server(id: string, busy: number, extra: Partial<ServerLoad> = {}): ServerLoad {
  return {
    id,
    baseUrl: `http://${id}`,
    running: busy,
    waiting: 0,
    capacity: 10,
    healthy: true,
    updatedAt: 0,
    ...extra,
  };
}

/** Runs the heartbeat's state machine over a load series, one tick a second. */
function run(loads: number[], start?: FleetState): FleetState[] {
  const states: FleetState[] = [];
  let state = start;
  loads.forEach((busy, i) => {
    const now = (i + 1) * 1000;
    state = nextFleetState(state, [server('a', busy, { updatedAt: now })], now, policy);
    states.push(state);
  });
  return states;
}

describe('loadWith and shardTotals', () => {
  it.each([
    ['idle', server('a', 0), 0],
    ['half busy', server('a', 5), 0.5],
    ['queued counts as load', server('a', 8, { waiting: 4 }), 1.2],
    ['KV pressure dominates when higher', server('a', 1, { kvCacheUsage: 0.81 }), 0.9],
  ])('%s', (_name, s, expected) => {
    expect(loadWith(s, s.running + s.waiting, policy)).toBeCloseTo(expected, 5);
  });

  it('weighs servers by capacity and leaves unhealthy ones out', () => {
    const servers = [
      server('a', 10, { capacity: 10 }),
      server('b', 0, { capacity: 30 }),
      server('c', 0, { healthy: false }),
    ];
    const totals = shardTotals(0, servers, 0, policy);
    expect(totals.used / totals.capacity).toBeCloseTo(0.25, 5);
    expect(shardTotals(0, [server('c', 0, { healthy: false })], 0, policy)).toMatchObject({
      capacity: 0,
      safeServers: 0,
    });
  });
});

describe('nextFleetState', () => {
  it('stays normal below the shed threshold', () => {
    expect(run([0, 5, 7]).map((s) => s.mode)).toEqual(['normal', 'normal', 'normal']);
  });

  it('sheds free tier when the load reaches SHED_FREE_AT and saturates at SATURATED_AT', () => {
    const states = run([7, 8, 9, 10, 12]);
    expect(states.map((s) => s.mode)).toEqual(['normal', 'shed_free', 'shed_free', 'saturated', 'saturated']);
    expect(states[1]?.shedSince).toBe(2000);
    expect(states[4]?.shedSince).toBe(2000);
  });

  it('lowers the free admit ratio above the target load and raises it below', () => {
    const states = run([7, 9.6, 9.6, 8.5, 8.5]);
    expect(states[0]?.freeAdmitRatio).toBe(1);
    const ratios = states.slice(1).map((s) => s.freeAdmitRatio);
    expect(ratios[0]).toBeLessThan(1);
    expect(ratios[1]).toBeLessThan(ratios[0] ?? 0);
    expect(ratios[2]).toBeGreaterThan(ratios[1] ?? 0);
    expect(ratios[3]).toBeGreaterThan(ratios[2] ?? 0);
  });

  it('brings free tier back only after the load stayed below the threshold for the whole cool-down', () => {
    // Shed at t=1s, below from t=2s: cool-down of 10 s ends at t=12s (the 12th tick).
    const states = run([8, ...Array(12).fill(2)]);
    expect(states.map((s) => s.mode)).toEqual([...Array(11).fill('shed_free'), 'normal', 'normal']);
    expect(states[1]?.freeReturnsAt).toBe(12_000);
  });

  it('restarts the cool-down when the load comes back above the threshold', () => {
    const states = run([8, 2, 2, 2, 9, 2, ...Array(10).fill(2)]);
    // Below again from t=6s: normal at t=16s, not at t=12s.
    const firstNormal = states.findIndex((s) => s.mode === 'normal');
    expect((firstNormal + 1) * 1000).toBe(16_000);
  });

  it('is saturated when no server is available, and counts versions up', () => {
    const down = nextFleetState(undefined, [server('a', 0, { healthy: false })], 1000, policy);
    expect(down.mode).toBe('saturated');
    const next = nextFleetState(down, [server('a', 0, { updatedAt: 2000 })], 2000, policy);
    expect(next.version).toBe(down.version + 1);
    // Free stays shed after a saturation until the cool-down has run.
    expect(next.mode).toBe('shed_free');
  });
});

describe('nextFleetState smoothing and saturation', () => {
  const smoothing: FleetPolicy = { ...policy, loadSmoothingMs: 3_000 };

  it('does not flip to saturated, nor restart the cool-down, on one burst', () => {
    let state: FleetState | undefined;
    const modes: string[] = [];
    [5, 5, 12, 5, 5].forEach((busy, i) => {
      const now = (i + 1) * 1000;
      state = nextFleetState(state, [server('a', busy, { updatedAt: now })], now, smoothing);
      modes.push(state.mode);
    });
    expect(modes).not.toContain('saturated');
    expect(state?.load).toBeCloseTo(0.5, 5);
    expect(state?.smoothedLoad).toBeGreaterThan(0.5);
  });

  it('is saturated once no server has been safe for two heartbeats in a row', () => {
    const full = (now: number) => [server('a', 10, { updatedAt: now })];
    const unsmoothed = { ...policy, saturatedAt: 5 };
    const first = nextFleetState(undefined, full(1000), 1000, unsmoothed);
    expect(first.mode).not.toBe('saturated');
    expect(nextFleetState(first, full(2000), 2000, unsmoothed).mode).toBe('saturated');
  });

  it("derives each server's completion rate from its counter, and none across a restart", () => {
    const first = nextFleetState(
      undefined,
      [server('a', 5, { updatedAt: 1000, completedTotal: 100 })],
      1000,
      policy,
    );
    const second = nextFleetState(
      first,
      [server('a', 5, { updatedAt: 3000, completedTotal: 108 })],
      3000,
      policy,
    );
    expect(second.servers[0]?.completionRate).toBeCloseTo(4, 5);
    const third = nextFleetState(
      second,
      [server('a', 5, { updatedAt: 4000, completedTotal: 116 })],
      4000,
      policy,
    );
    // Smoothed: halfway from 4/s to the new 8/s.
    expect(third.servers[0]?.completionRate).toBeCloseTo(6, 5);
    const restarted = nextFleetState(
      third,
      [server('a', 5, { updatedAt: 5000, completedTotal: 2 })],
      5000,
      policy,
    );
    expect(restarted.servers[0]?.completionRate).toBeUndefined();
  });
});

describe('admit', () => {
  const base: FleetState = {
    shard: 0,
    totals: { shard: 0, used: 0, capacity: 0, safeServers: 0, updatedAt: 1000 },
    mode: 'normal',
    load: 0.1,
    smoothedLoad: 0.1,
    freeAdmitRatio: 1,
    updatedAt: 1000,
    version: 1,
    servers: [],
  };

  it.each([
    ['normal admits free', base, 'free', 0.99, true],
    ['normal admits premium', base, 'premium', 0.99, true],
    ['shed admits premium', { ...base, mode: 'shed_free', freeAdmitRatio: 0 }, 'premium', 0, true],
    [
      'shed refuses free above the ratio',
      { ...base, mode: 'shed_free', freeAdmitRatio: 0.3 },
      'free',
      0.3,
      false,
    ],
    [
      'shed admits free below the ratio',
      { ...base, mode: 'shed_free', freeAdmitRatio: 0.3 },
      'free',
      0.29,
      true,
    ],
    ['saturated refuses free', { ...base, mode: 'saturated' }, 'free', 0, false],
    // Routing then decides, with its fresher per-server estimate, whether any server is still safe.
    ['saturated lets premium on to routing', { ...base, mode: 'saturated' }, 'premium', 0, true],
  ] as const)('%s', (_name, state, tier, random, expected) => {
    expect(admit(state, tier, random).admitted).toBe(expected);
  });

  it('refuses everyone only without any view; an old view still admits', () => {
    expect(admit(undefined, 'premium', 0)).toEqual({ admitted: false, reason: 'no_fleet_data' });
    // The view's age is no input at all: an hour-old view admits like a fresh one.
    const hourOld = { ...base, updatedAt: base.updatedAt - 3_600_000 };
    expect(admit(hourOld, 'premium', 0).admitted).toBe(true);
    expect(admit(hourOld, 'free', 0).admitted).toBe(true);
  });
});

describe('settle and viewTrust', () => {
  it('brings a decaying value to exactly 0, and leaves real values alone', () => {
    let rate = 12;
    for (let tick = 0; tick < 2_000; tick++) rate = settle(rate / 2);
    expect(rate).toBe(0);
    expect(settle(1e-6)).toBe(1e-6);
    expect(settle(-1e-12)).toBe(0);
  });

  it('trusts a fresh view fully, then less, and not at all past the distrust age', () => {
    expect(viewTrust(policy.staleAfterMs, policy)).toBe(1);
    const middle = (policy.staleAfterMs + policy.distrustAfterMs) / 2;
    expect(viewTrust(middle, policy)).toBeCloseTo(0.5, 5);
    expect(viewTrust(policy.distrustAfterMs, policy)).toBe(0);
    expect(viewTrust(10 * policy.distrustAfterMs, policy)).toBe(0);
  });
});

describe('nextFleetState across shards', () => {
  it("takes the fleet load from every shard's fresh totals, and drops a stale shard", () => {
    const now = 10_000;
    const busyShard = { shard: 1, used: 30, capacity: 30, safeServers: 0, updatedAt: now };
    const staleShard = { shard: 2, used: 0, capacity: 1_000, safeServers: 100, updatedAt: 0 };
    const own = [server('a', 0, { updatedAt: now })];
    const next = nextFleetState(undefined, own, now, policy, { shard: 0, totals: [busyShard, staleShard] });
    // (0 + 30) / (10 + 30): the stale shard's idle capacity does not dilute the load.
    expect(next.load).toBeCloseTo(0.75, 5);
    expect(next.shard).toBe(0);
    expect(next.totals).toEqual(shardTotals(0, own, now, policy));
  });

  it('leaves draining servers out of the totals, so their capacity does not count', () => {
    const now = 1_000;
    const totals = shardTotals(0, [server('a', 5, { updatedAt: now, draining: true })], now, policy);
    expect(totals.capacity).toBe(0);
  });
});
