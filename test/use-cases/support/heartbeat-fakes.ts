/**
 * The heartbeat use case over its ports in memory: a clock, probes that answer what a test sets, a fleet
 * view with compare-and-set versions and hooks to lose races, a registry that can fail, a capturing log.
 */
import {
  defaultFleetPolicy,
  type FleetPolicy,
  type FleetState,
  type ServerLoad,
} from '../../../domain/fleet';
import type {
  FleetRepository,
  InferenceServer,
  LoadProbe,
  Log,
  RegisteredServer,
  ServerRegistry,
} from '../../../domain/ports';
import { type HeartbeatDeps, HeartbeatWorker } from '../../../use-cases/heartbeat-tick';
/** One tick of a worker that has just started (reads the registry, then ticks). */
export const runHeartbeatTick = (deps: HeartbeatDeps) => new HeartbeatWorker(deps).tick();

export type Configured = InferenceServer & { readonly capacity: number };

export class FakeClock {
  constructor(public t = 1_750_000_000_000) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

/** Each server answers what the test last set: counts, a failure, or a thrown error. */
export class FakeProbe implements LoadProbe {
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
export class InMemoryFleet implements FleetRepository {
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
export class InMemoryRegistry implements Pick<ServerRegistry, 'listShard'> {
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

export class CapturingLog implements Log {
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
export const policy: FleetPolicy = {
  ...defaultFleetPolicy,
  freeCooldownMs: 10_000,
  staleAfterMs: 3_000,
  loadSmoothingMs: 0,
};

export const servers: RegisteredServer[] = [
  { id: 'gpu-1', baseUrl: 'http://10.0.0.1:8000', capacity: 10, status: 'active' },
  { id: 'gpu-2', baseUrl: 'http://10.0.0.2:8000', capacity: 10, status: 'active' },
];

export function setup(overrides: Partial<HeartbeatDeps> = {}) {
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
