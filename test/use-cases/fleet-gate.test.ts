import { describe, expect, it } from 'vitest';
import { defaultBackoffPolicy } from '../../contract/backoff';
import { OVERLOADED_MESSAGE } from '../../contract/errors';
import { DomainError } from '../../domain/errors';
import { defaultFleetPolicy, type FleetState, type ServerLoad } from '../../domain/fleet';
import { type AdmissionPolicy, FleetGate } from '../../use-cases/fleet-gate';

function server(id: string, running: number): ServerLoad {
  return { id, baseUrl: `http://${id}`, running, waiting: 0, capacity: 4, healthy: true, updatedAt: 0 };
}

function state(partial: Partial<FleetState>): FleetState {
  return {
    shard: 0,
    totals: { shard: 0, used: 0, capacity: 4, safeServers: 1, updatedAt: 0 },
    mode: 'normal',
    load: 0,
    smoothedLoad: 0,
    freeAdmitRatio: 1,
    updatedAt: 0,
    version: 1,
    servers: [server('a', 0)],
    ...partial,
  };
}

/** A fleet table whose reads are counted and whose answer the test sets. */
function setup(initial: FleetState | undefined, random = () => 0.5, admissionPolicy?: AdmissionPolicy) {
  const clock = {
    t: 0,
    now() {
      return this.t;
    },
  };
  const table = {
    reads: 0,
    state: initial,
    failing: false,
    async getView() {
      this.reads++;
      if (this.failing) throw new Error('ProvisionedThroughputExceededException');
      return this.state;
    },
  };
  const gate = new FleetGate({
    fleet: table,
    clock,
    random,
    policy: defaultFleetPolicy,
    backoff: defaultBackoffPolicy,
    cacheMs: 1000,
    ...(admissionPolicy ? { admissionPolicy } : {}),
  });
  return { gate, table, clock };
}

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DomainError)) throw new Error('expected a DomainError');
  return error;
}

describe('FleetGate', () => {
  it('reads the fleet state once per cache period, once for concurrent prompts too', async () => {
    const { gate, table, clock } = setup(state({}));
    await Promise.all([gate.admit('free', 0), gate.admit('free', 0), gate.admit('premium', 0)]);
    clock.t = 999;
    await gate.admit('free', 0);
    expect(table.reads).toBe(1);
    clock.t = 1000;
    await gate.admit('free', 0);
    expect(table.reads).toBe(2);
  });

  it('tells the age of the view a prompt was admitted on, also when a failed read kept an old one', async () => {
    const { gate, table, clock } = setup(state({ updatedAt: 100 }));
    clock.t = 600;
    expect((await gate.admit('free', 0)).viewAgeMs).toBe(500);
    table.failing = true;
    clock.t = 30_600;
    expect((await gate.admit('free', 0)).viewAgeMs).toBe(30_500);
  });

  it('refuses shed free prompts with the busy message and an exponential Retry-After; premium passes', async () => {
    const { gate } = setup(state({ mode: 'shed_free', freeAdmitRatio: 0.1 }), () => 0);
    // random() = 0 admits (0 < 0.1); make the draw high for the refusal case.
    const { gate: busyGate } = setup(state({ mode: 'shed_free', freeAdmitRatio: 0.1 }), () => 0.9);
    const error = await refusal(busyGate.admit('free', 2));
    expect(error.code).toBe('overloaded');
    expect(error.message).toBe(OVERLOADED_MESSAGE);
    expect(error.details.retry_after_seconds).toBe(Math.round(40 * 1.18));
    await expect(busyGate.admit('premium', 7)).resolves.toBeDefined();
    await expect(gate.admit('free', 0)).resolves.toBeDefined();
  });

  it('gives premium 10 s every time when no server can take it', async () => {
    const { gate } = setup(state({ mode: 'saturated', servers: [server('a', 4)] }));
    for (const attempt of [0, 3]) {
      const selector = await gate.admit('premium', attempt);
      expect((await refusal(selector.pick())).details.retry_after_seconds).toBe(10);
    }
    expect((await refusal(gate.admit('free', 0))).details.reason).toBe('saturated');
  });

  it('holds a premium prompt that finds no room until a slot frees, instead of refusing it', async () => {
    const clock = {
      t: 0,
      now() {
        return this.t;
      },
    };
    const table = {
      state: state({ servers: [server('a', 4)] }),
      async getView() {
        return this.state;
      },
    };
    const gate = new FleetGate({
      fleet: table,
      clock,
      random: () => 0,
      policy: defaultFleetPolicy,
      backoff: defaultBackoffPolicy,
      cacheMs: 0,
      premiumWaitMs: 1000,
      sleep: async (ms) => {
        clock.t += ms;
        // A heartbeat 300 ms later sees a finished sequence.
        if (clock.t >= 300)
          table.state = state({ servers: [{ ...server('a', 3), updatedAt: 300 }], updatedAt: 300 });
      },
    });
    const selector = await gate.admit('premium', 0);
    expect((await selector.pick()).id).toBe('a');
    expect(clock.t).toBe(300);
    // Free tier is not held.
    const free = await gate.admit('free', 0);
    await refusal(free.pick());
    expect(clock.t).toBe(300);
  });

  it('routes around servers this container already filled since the last read', async () => {
    const { gate } = setup(state({ servers: [server('a', 2), server('b', 2)] }), () => 0);
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const selector = await gate.admit('premium', 0);
      picks.push((await selector.pick()).id);
    }
    // Each server has room for 2 more; with draws at 0 the first candidate wins until it is full.
    expect(picks).toEqual(['a', 'a', 'b', 'b']);
    const selector = await gate.admit('premium', 0);
    expect((await refusal(selector.pick())).code).toBe('overloaded');
  });

  it('keeps the last view while the fleet table fails, and keeps admitting on it when it is old', async () => {
    // Prepare
    const { gate, table, clock } = setup(state({ updatedAt: 0 }));
    await gate.admit('free', 0);
    table.failing = true;
    // Act: the heartbeat is gone for far longer than any staleness threshold
    clock.t = 10 * 60_000;
    const premium = await gate.admit('premium', 0);
    const free = await gate.admit('free', 0);
    // Assess: both are routed to the server the last view knew healthy
    expect((await premium.pick()).id).toBe('a');
    expect((await free.pick()).id).toBe('a');
  });

  it('does not hammer a failing table: one read per cache period, the last view kept', async () => {
    const { gate, table, clock } = setup(state({}));
    await gate.admit('free', 0);
    table.failing = true;
    clock.t = 1000;
    await Promise.all([gate.admit('free', 0), gate.admit('premium', 0)]);
    await gate.admit('free', 0);
    expect(table.reads).toBe(2);
    clock.t = 2000;
    await gate.admit('free', 0);
    expect(table.reads).toBe(3);
  });

  it('refuses everyone only when it never had any view', async () => {
    const { gate } = setup(undefined);
    expect((await refusal(gate.admit('premium', 0))).details.reason).toBe('no_fleet_data');
  });

  it("narrows free tier's ceiling as the view ages, and never premium's", async () => {
    // Capacity 10: fresh, free may bring the server to 8; at trust 0.2 to 8 × (0.75 + 0.25 × 0.2) = 6.4.
    const { gate, clock } = setup(state({ servers: [{ ...server('a', 6), capacity: 10 }] }), () => 0);
    const { staleAfterMs, distrustAfterMs } = defaultFleetPolicy;
    clock.t = staleAfterMs + 0.8 * (distrustAfterMs - staleAfterMs);
    expect((await refusal((await gate.admit('free', 0)).pick())).details.reason).toBe('saturated');
    expect((await (await gate.admit('premium', 0)).pick()).id).toBe('a');
  });

  it('counts its own sends against a server until they are released, even on a frozen view', async () => {
    const { gate, clock } = setup(state({ servers: [server('a', 2)] }), () => 0);
    clock.t = 5_000;
    const first = await gate.admit('premium', 0);
    const a = await first.pick();
    await (await gate.admit('premium', 0)).pick();
    // Capacity 4, 2 running + 2 of ours: full.
    await refusal((await gate.admit('premium', 0)).pick());
    first.release(a);
    expect((await (await gate.admit('premium', 0)).pick()).id).toBe('a');
  });

  it('lets free prompts fill a server only to the shed threshold, keeping the rest for premium', async () => {
    // Capacity 10 (see server()): free may bring it to 8 (0.8), premium to 10.
    const { gate } = setup(state({ servers: [{ ...server('a', 7), capacity: 10 }] }), () => 0);
    const free = await gate.admit('free', 0);
    expect((await free.pick()).id).toBe('a');
    expect((await refusal(free.pick())).code).toBe('overloaded');
    const premium = await gate.admit('premium', 0);
    expect((await premium.pick()).id).toBe('a');
    expect((await premium.pick()).id).toBe('a');
    expect((await refusal(premium.pick())).code).toBe('overloaded');
  });
});

describe('FleetGate straw-man policies', () => {
  it('static_reservation keeps free prompts off the reserved servers and sheds no one by mode', async () => {
    const servers = [server('a', 0), server('b', 0)];
    const { gate } = setup(state({ mode: 'saturated', servers }), () => 0, {
      kind: 'static_reservation',
      reservedServers: 1,
    });
    const free = await gate.admit('free', 0);
    for (let i = 0; i < 4; i++) expect((await free.pick()).id).toBe('b');
    expect((await refusal(free.pick())).code).toBe('overloaded');
    expect((await (await gate.admit('premium', 0)).pick()).id).toBe('a');
  });

  it('admit_all admits everyone and queues past every threshold', async () => {
    const { gate } = setup(state({ mode: 'saturated', servers: [server('a', 9)] }), () => 0, {
      kind: 'admit_all',
    });
    const selector = await gate.admit('free', 5);
    expect((await selector.pick()).id).toBe('a');
    expect((await selector.pick()).id).toBe('a');
  });
});

describe('FleetGate over shards', () => {
  function sharded(views: Record<number, FleetState>, random: () => number) {
    const reads: number[] = [];
    const gate = new FleetGate({
      fleet: {
        async getView(shard: number) {
          reads.push(shard);
          return views[shard];
        },
      },
      shards: 4,
      clock: { now: () => 0 },
      random,
      policy: defaultFleetPolicy,
      backoff: defaultBackoffPolicy,
      cacheMs: 1000,
    });
    return { gate, reads };
  }

  it('reads one shard view per admission, the shard drawn at random', async () => {
    // Prepare: random 0.6 draws shard floor(0.6 × 4) = 2
    const { gate, reads } = sharded({ 2: state({ shard: 2, servers: [server('c', 0)] }) }, () => 0.6);
    // Act
    const chosen = await (await gate.admit('premium', 0)).pick();
    // Assess
    expect(chosen.id).toBe('c');
    expect(reads).toEqual([2]);
  });

  it("looks at a second shard's view when the first has no room, and no further", async () => {
    const full = state({ shard: 0, servers: [server('a', 4)] });
    const roomy = state({ shard: 1, servers: [server('b', 0)] });
    const { gate, reads } = sharded({ 0: full, 1: roomy }, () => 0);
    expect((await (await gate.admit('premium', 0)).pick()).id).toBe('b');
    expect(reads).toEqual([0, 1]);
  });

  it("falls back to another shard's view when the drawn one is missing", async () => {
    const { gate } = sharded({ 1: state({ shard: 1, servers: [server('b', 0)] }) }, () => 0);
    expect((await (await gate.admit('free', 0)).pick()).id).toBe('b');
  });
});
