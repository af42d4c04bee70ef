import { describe, expect, it, vi } from 'vitest';
import { defaultFleetPolicy, type FleetState, nextFleetState } from '../../../domain/fleet';
import type { Log } from '../../../domain/ports';
import { runHeartbeat } from '../../../functions/heartbeat/loop';
import type { HeartbeatWorker } from '../../../use-cases/heartbeat-tick';

class FakeClock {
  t = 1_750_000_000_250;
  now = () => this.t;
}

class CapturingLog implements Log {
  readonly errors: Record<string, unknown>[] = [];
  info = () => {};
  warn = () => {};
  error = (_message: string, ...extra: Record<string, unknown>[]) => {
    this.errors.push(Object.assign({}, ...extra));
  };
}

type Tick = (signal?: AbortSignal) => Promise<FleetState>;

/** A worker whose ticks the test scripts: `script[n]` runs the n-th tick, the rest succeed at once. */
function scriptedWorker(clock: FakeClock, script: Partial<Record<number, Tick>> = {}) {
  let previous: FleetState | undefined;
  const signals: AbortSignal[] = [];
  const succeed = async () => {
    previous = nextFleetState(previous, [], clock.now(), defaultFleetPolicy);
    return previous;
  };
  const worker: Pick<HeartbeatWorker, 'tick'> = {
    tick: (signal) => {
      if (signal) signals.push(signal);
      const scripted = script[signals.length - 1];
      return scripted ? scripted(signal) : succeed();
    },
  };
  return { worker, signals, ticks: () => signals.length, version: () => previous?.version ?? 0 };
}

function loopDeps(clock: FakeClock, worker: Pick<HeartbeatWorker, 'tick'>, tickTimeoutMs = 10_000) {
  const log = new CapturingLog();
  const sleeps: number[] = [];
  const states: FleetState[] = [];
  return {
    log,
    sleeps,
    states,
    deps: {
      worker,
      clock,
      log,
      intervalMs: 1000,
      tickTimeoutMs,
      onState: (state: FleetState) => states.push(state),
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock.t += ms;
      },
    },
  };
}

/** Never settles unless its signal aborts (a DynamoDB call that honours its abort signal). */
const hangsUntilAborted: Tick = (signal) =>
  new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));

/** Never settles at all (a call that ignores its signal). */
const hangsForever: Tick = () => new Promise<FleetState>(() => {});

describe('runHeartbeat', () => {
  it('ticks, then sleeps to the next interval boundary, until told to stop', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const scripted = scriptedWorker(clock);
    const { deps, sleeps, states } = loopDeps(clock, scripted.worker);

    // Act
    const result = await runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 4_000);

    // Assess
    expect(result).toEqual({ ticks: 5, failures: 0 });
    expect(sleeps).toEqual([750, 1000, 1000, 1000]);
    expect(states.map((state) => state.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it("ticks at its phase within the interval, so the shards' workers do not all fire at once", async () => {
    // Prepare: the clock stands at 250 ms past a boundary (interval 1 s), the phase is 300 ms
    const clock = new FakeClock();
    const start = clock.t;
    const scripted = scriptedWorker(clock);
    const { deps, sleeps } = loopDeps(clock, scripted.worker);

    // Act
    await runHeartbeat({ ...deps, phaseMs: 300 }, (nextTickAt) => nextTickAt - start >= 2_000);

    // Assess: 300 ms past each boundary
    expect(sleeps).toEqual([50, 1000]);
  });

  it('logs a failed tick and goes on', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const throttled: Tick = async () => {
      throw new Error('ProvisionedThroughputExceeded');
    };
    const scripted = scriptedWorker(clock, { 0: throttled, 2: throttled });
    const { deps, log, states } = loopDeps(clock, scripted.worker);

    // Act
    const result = await runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 4_000);

    // Assess
    expect(result).toEqual({ ticks: 5, failures: 2 });
    expect(log.errors).toEqual([
      { error: 'Error', detail: 'ProvisionedThroughputExceeded' },
      { error: 'Error', detail: 'ProvisionedThroughputExceeded' },
    ]);
    expect(states.map((state) => state.version)).toEqual([1, 2, 3]);
  });

  it('goes on after a tick that throws synchronously (a faulty worker)', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const scripted = scriptedWorker(clock, {
      1: () => {
        throw new TypeError('not a promise');
      },
    });
    const { deps, log } = loopDeps(clock, scripted.worker);

    // Act
    const result = await runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 3_000);

    // Assess
    expect(result).toEqual({ ticks: 4, failures: 1 });
    expect(log.errors).toEqual([{ error: 'TypeError', detail: 'not a promise' }]);
  });

  it('aborts a hung tick at tickTimeoutMs through its signal, and goes on with the next tick', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const scripted = scriptedWorker(clock, { 1: hangsUntilAborted });
    const { deps, log, states } = loopDeps(clock, scripted.worker, 20);

    // Act
    const result = await runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 3_000);

    // Assess
    expect(result).toEqual({ ticks: 4, failures: 1 });
    expect(scripted.signals.map((signal) => signal.aborted)).toEqual([false, true, false, false]);
    expect(log.errors).toEqual([{ error: 'Error', detail: 'heartbeat tick exceeded 20 ms' }]);
    expect(states.map((state) => state.version)).toEqual([1, 2, 3]);
  });

  it('gives up on a hung tick that ignores its signal, and goes on with the next tick', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const scripted = scriptedWorker(clock, { 0: hangsForever, 2: hangsForever });
    const { deps, log, states } = loopDeps(clock, scripted.worker, 20);

    // Act
    const result = await runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 4_000);

    // Assess
    expect(result).toEqual({ ticks: 5, failures: 2 });
    expect(scripted.ticks()).toBe(5);
    expect(log.errors).toEqual([
      { error: 'Error', detail: 'heartbeat tick exceeded 20 ms' },
      { error: 'Error', detail: 'heartbeat tick exceeded 20 ms' },
    ]);
    expect(states.map((state) => state.version)).toEqual([1, 2, 3]);
  });

  it('counts a tick that settles only after its deadline as failed, without publishing its state', async () => {
    // Prepare: fake timers, so the late answer comes exactly after the deadline, whatever the machine.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const clock = new FakeClock();
      const start = clock.t;
      const late: FleetState = nextFleetState(undefined, [], clock.now(), defaultFleetPolicy);
      const scripted = scriptedWorker(clock, {
        0: () => new Promise((resolve) => setTimeout(() => resolve({ ...late, version: 99 }), 50)),
      });
      const { deps, states } = loopDeps(clock, scripted.worker, 20);

      // Act
      const running = runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 2_000);
      await vi.advanceTimersByTimeAsync(100);
      const result = await running;

      // Assess
      expect(result).toEqual({ ticks: 3, failures: 1 });
      expect(states.map((state) => state.version)).not.toContain(99);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops after the current tick when its signal aborts', async () => {
    // Prepare
    const clock = new FakeClock();
    const controller = new AbortController();
    const scripted = scriptedWorker(clock);
    const { deps } = loopDeps(clock, scripted.worker);
    const sleep = async (ms: number) => {
      clock.t += ms;
      controller.abort();
    };

    // Act
    const result = await runHeartbeat({ ...deps, sleep, signal: controller.signal }, () => false);

    // Assess
    expect(result).toEqual({ ticks: 1, failures: 0 });
  });

  it('does not tick at all when its signal aborted before the start', async () => {
    // Prepare
    const clock = new FakeClock();
    const scripted = scriptedWorker(clock);
    const { deps } = loopDeps(clock, scripted.worker);

    // Act
    const result = await runHeartbeat({ ...deps, signal: AbortSignal.abort() }, () => false);

    // Assess
    expect(result).toEqual({ ticks: 0, failures: 0 });
    expect(scripted.ticks()).toBe(0);
  });

  it('wakes from a real sleep when aborted (local runtime shutdown)', async () => {
    // Prepare
    const controller = new AbortController();
    const scripted = scriptedWorker(new FakeClock());
    const { deps } = loopDeps(new FakeClock(), scripted.worker);
    const realClockDeps = {
      ...deps,
      clock: { now: () => Date.now() },
      intervalMs: 3_600_000,
      sleep: undefined,
    };

    // Act
    const running = runHeartbeat({ ...realClockDeps, signal: controller.signal }, () => false);
    setTimeout(() => controller.abort(), 20);
    const result = await running;

    // Assess
    expect(result).toEqual({ ticks: 1, failures: 0 });
  });
});
