/**
 * An idle fleet must not stop the heartbeat. Once a server's finished-request counter stops growing, its
 * completion rate halves every tick and the smoothed fleet load decays towards 0: left alone both pass
 * below 1e-130 within minutes, and DynamoDB refuses such a number ("Number underflow") — every view write
 * would fail, the view would freeze, and admission would work from it for good. Here the fleet table is an
 * in-memory one that refuses exactly what DynamoDB refuses, on a fake clock, without network.
 */
import { describe, expect, it } from 'vitest';
import { defaultBackoffPolicy } from '../../contract/backoff';
import { defaultFleetPolicy, type FleetState, type ServerLoad, type ShardTotals } from '../../domain/fleet';
import type { FleetRepository, LoadProbe, Log, RegisteredServer, ServerRegistry } from '../../domain/ports';
import { FleetGate } from '../../use-cases/fleet-gate';
import { HeartbeatWorker } from '../../use-cases/heartbeat-tick';

const TICK_MS = 100;
const IDLE_MS = 90_000;
const BUSY_TICKS = 5;

/** DynamoDB's number range: finite, and 0 or a magnitude of at least 1e-130. */
function dynamoDbRefuses(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return 'Infinity';
  if (value !== 0 && Math.abs(value) < 1e-130) return 'Number underflow';
  return undefined;
}

/** Every number in a stored value, with its path. */
function numbersIn(value: unknown, path: string): { path: string; value: number }[] {
  if (typeof value === 'number') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((element, index) => numbersIn(element, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, element]) => numbersIn(element, `${path}.${key}`));
  }
  return [];
}

class ValidationException extends Error {
  override readonly name = 'ValidationException';
}

/** One shard's view in memory, versioned like the real table, refusing numbers DynamoDB refuses. */
class DynamoDbRangeFleet implements FleetRepository {
  view: FleetState | undefined;
  readonly writes: FleetState[] = [];
  readonly refusals: string[] = [];

  async getView(): Promise<FleetState | undefined> {
    await Promise.resolve();
    return this.view === undefined ? undefined : structuredClone(this.view);
  }

  async getShardTotals(): Promise<ShardTotals[]> {
    await Promise.resolve();
    return this.view === undefined ? [] : [structuredClone(this.view.totals)];
  }

  async saveView(view: FleetState, expectedVersion: number | undefined): Promise<boolean> {
    await Promise.resolve();
    for (const { path, value } of numbersIn(view, 'view')) {
      const reason = dynamoDbRefuses(value);
      if (reason !== undefined) {
        this.refusals.push(`${path}=${value}`);
        throw new ValidationException(`${reason}: ${path} = ${value}`);
      }
    }
    if (this.view?.version !== expectedVersion) return false;
    this.view = structuredClone(view);
    this.writes.push(this.view);
    return true;
  }
}

class FakeClock {
  t = 1_750_000_000_000;
  now = () => this.t;
}

/**
 * vLLM-like servers: busy (sequences, KV in use, the finished counter growing) until `silence()`, then idle
 * with a counter that no longer moves.
 */
class FakeProbe implements LoadProbe {
  private busy = true;
  private readonly completed = new Map<string, number>();
  constructor(private readonly clock: FakeClock) {}

  silence(): void {
    this.busy = false;
  }

  async probe(server: RegisteredServer): Promise<ServerLoad> {
    await Promise.resolve();
    const total = (this.completed.get(server.id) ?? 40_000) + (this.busy ? 7 : 0);
    this.completed.set(server.id, total);
    return {
      id: server.id,
      baseUrl: server.baseUrl,
      capacity: server.capacity,
      running: this.busy ? 3 : 0,
      waiting: this.busy ? 1 : 0,
      kvCacheUsage: this.busy ? 0.5 : 0,
      completedTotal: total,
      healthy: true,
      updatedAt: this.clock.now(),
    };
  }
}

const servers: RegisteredServer[] = [
  { id: 'gpu-1', baseUrl: 'http://10.0.0.1:8000', capacity: 10, status: 'active' },
  { id: 'gpu-2', baseUrl: 'http://10.0.0.2:8000', capacity: 10, status: 'active' },
];

const registry: Pick<ServerRegistry, 'listShard'> = { listShard: async () => servers };

const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

function setup() {
  const clock = new FakeClock();
  const probe = new FakeProbe(clock);
  const fleet = new DynamoDbRangeFleet();
  const worker = new HeartbeatWorker({
    shard: 0,
    shards: 1,
    registry,
    probe,
    fleet,
    clock,
    policy: defaultFleetPolicy,
    log: silentLog,
  });
  return { clock, probe, fleet, worker };
}

/** Ticks every TICK_MS for `ms` of virtual time; the outcome of each tick (a view or the error). */
async function tickFor(
  worker: HeartbeatWorker,
  clock: FakeClock,
  ms: number,
): Promise<(FleetState | Error)[]> {
  const outcomes: (FleetState | Error)[] = [];
  for (let elapsed = 0; elapsed < ms; elapsed += TICK_MS) {
    clock.t += TICK_MS;
    outcomes.push(await worker.tick().catch((error: unknown) => error as Error));
  }
  return outcomes;
}

const rates = (view: FleetState) => view.servers.map((server) => server.completionRate);

describe('DynamoDbRangeFleet (the in-memory table of this test)', () => {
  it.each([1e-140, -1e-131, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'refuses a view holding %s, as DynamoDB does',
    async (value) => {
      // Prepare
      const { clock, fleet } = setup();
      const view: FleetState = {
        shard: 0,
        totals: { shard: 0, used: 0, capacity: 10, safeServers: 1, updatedAt: clock.t },
        mode: 'normal',
        load: 0,
        smoothedLoad: value,
        freeAdmitRatio: 1,
        updatedAt: clock.t,
        version: 1,
        servers: [],
      };

      // Act
      const act = fleet.saveView(view, undefined);

      // Assess
      await expect(act).rejects.toBeInstanceOf(ValidationException);
      expect(fleet.view).toBeUndefined();
    },
  );

  it('stores 0 and numbers down to 1e-130', async () => {
    // Prepare
    const { clock, fleet } = setup();
    const totals = { shard: 0, used: 1e-130, capacity: 10, safeServers: 1, updatedAt: clock.t };
    const view: FleetState = {
      shard: 0,
      totals,
      mode: 'normal',
      load: 0,
      smoothedLoad: -0,
      freeAdmitRatio: 1,
      updatedAt: clock.t,
      version: 1,
      servers: [],
    };

    // Act
    const saved = await fleet.saveView(view, undefined);

    // Assess
    expect(saved).toBe(true);
  });
});

describe('HeartbeatWorker on an idle fleet', () => {
  it('writes every tick for 90 s of silence, settles the rates and the load at exactly 0, and admits both tiers', async () => {
    // Prepare: a few busy ticks, then the servers go quiet (counters stop growing).
    const { clock, probe, fleet, worker } = setup();
    const busy = await tickFor(worker, clock, BUSY_TICKS * TICK_MS);
    probe.silence();

    // Act
    const idle = await tickFor(worker, clock, IDLE_MS);
    const gate = new FleetGate({
      fleet,
      clock,
      random: () => 0.5,
      policy: defaultFleetPolicy,
      backoff: defaultBackoffPolicy,
      cacheMs: 500,
    });
    const free = await gate.admit('free', 0);
    const freeServer = await free.pick();
    const premium = await gate.admit('premium', 0);
    const premiumServer = await premium.pick();

    // Assess: every tick wrote a view, none was refused.
    const outcomes = [...busy, ...idle];
    expect(outcomes.filter((outcome) => outcome instanceof Error)).toEqual([]);
    expect(fleet.refusals).toEqual([]);
    expect(fleet.writes).toHaveLength(BUSY_TICKS + IDLE_MS / TICK_MS);
    expect(fleet.view?.version).toBe(BUSY_TICKS + IDLE_MS / TICK_MS);
    // The decay really ran: busy ticks measured a rate, and the first idle ticks still carried one.
    const firstIdle = fleet.writes[BUSY_TICKS];
    expect(firstIdle && rates(firstIdle).every((rate) => rate !== undefined && rate > 0)).toBe(true);
    expect(firstIdle?.smoothedLoad).toBeGreaterThan(0);
    // … and reached exactly 0, not a tiny number on its way to underflow.
    const last = fleet.view;
    expect(last && rates(last)).toEqual([0, 0]);
    expect(last?.servers.every((server) => Object.is(server.completionRate, 0))).toBe(true);
    expect(Object.is(last?.smoothedLoad, 0)).toBe(true);
    expect(last).toMatchObject({ mode: 'normal', load: 0, freeAdmitRatio: 1 });
    expect(last?.totals).toMatchObject({ used: 0, capacity: 20, safeServers: 2 });
    // A chat container reading the same table admits and routes both tiers.
    expect(servers.map((server) => server.id)).toContain(freeServer.id);
    expect(servers.map((server) => server.id)).toContain(premiumServer.id);
  });
});
