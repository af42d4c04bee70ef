/**
 * The simulated world of one scenario: virtual time, the DynamoDB model with the fleet and registry tables,
 * the inference servers, the real heartbeat workers and the chat containers' real FleetGates.
 */
import { DynamoDbFleetRepository } from '../../adapters/dynamodb/fleet-repository';
import { DynamoDbServerRegistry } from '../../adapters/dynamodb/server-registry';
import type { BackoffPolicy } from '../../contract/backoff';
import type { FleetPolicy } from '../../domain/fleet';
import type { Log } from '../../domain/ports';
import { fleetTable, serverRegistryTable } from '../../lib/resources';
import { backoffPolicy, fleetPolicy, heartbeatIntervalMs } from '../../settings/policies';
import { readSettings } from '../../settings/read';
import { FleetGate } from '../../use-cases/fleet-gate';
import { HeartbeatWorker } from '../../use-cases/heartbeat-tick';
import type { SimConfig } from './config';
import { ContainerPool } from './containers';
import { DynamoDbModel } from './dynamodb-model';
import { HeartbeatStats } from './heartbeat-loop';
import { Random } from './random';
import { defaultProbeConfig, defaultServerConfig, SimLoadProbe, SimServer } from './server-model';
import { SharedViews } from './shared-views';
import { VirtualTime } from './virtual-time';

/** Log sink for the real code: counts messages by level and text (never printed per line). */
export class CountingLog implements Log {
  readonly counts = new Map<string, number>();

  private count(level: string, message: string) {
    const key = `${level}: ${message}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  info(message: string): void {
    this.count('info', message);
  }

  warn(message: string): void {
    this.count('warn', message);
  }

  error(message: string): void {
    this.count('error', message);
  }
}

/** The knobs the real functions read from their environment (same variables, same defaults). */
export interface RealSettings {
  readonly policy: FleetPolicy;
  readonly backoff: BackoffPolicy;
  readonly intervalMs: number;
  readonly premiumWaitMs: number;
  readonly tickTimeoutMs: number;
  readonly registryRefreshMs: number;
  readonly probeTimeoutMs: number;
}

/**
 * SIM_POLICY: a JSON object merged over the FleetPolicy (e.g. '{"targetLoad":0.85}'), for fields the
 * functions do not read from their environment; everything else comes from the real settings table.
 */
export function realSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RealSettings {
  const settings = readSettings(env);
  const override = env.SIM_POLICY ? (JSON.parse(env.SIM_POLICY) as Partial<FleetPolicy>) : {};
  // The variables and defaults the chat function (premium wait) and the heartbeat (tick time-out,
  // registry refresh, probe time-out) read: settings/settings.ts.
  return {
    policy: { ...fleetPolicy(settings), ...override },
    backoff: backoffPolicy(settings),
    intervalMs: heartbeatIntervalMs(settings),
    premiumWaitMs: settings.premiumAdmissionWaitMs,
    tickTimeoutMs: settings.heartbeatTickTimeoutMs,
    registryRefreshMs: settings.registryRefreshSeconds * 1000,
    probeTimeoutMs: settings.heartbeatProbeTimeoutMs,
  };
}

export const serverId = (index: number) => `gpu-${String(index).padStart(5, '0')}`;
const serverUrl = (index: number) => `http://10.${(index >> 8) & 255}.${index & 255}.7:8000`;

export interface World {
  readonly time: VirtualTime;
  readonly random: Random;
  readonly model: DynamoDbModel;
  readonly servers: Map<string, SimServer>;
  readonly workers: HeartbeatWorker[];
  readonly probes: SimLoadProbe[];
  readonly heartbeat: HeartbeatStats;
  readonly pool: ContainerPool;
  readonly log: CountingLog;
  readonly settings: RealSettings;
  readonly epochMs: number;
}

export async function buildWorld(config: SimConfig, settings: RealSettings, seed: number): Promise<World> {
  const time = new VirtualTime({ quantumMs: config.timeQuantumMs, drain: config.drain });
  const epochMs = time.now();
  const random = new Random(seed);
  const model = new DynamoDbModel({
    time,
    random: random.fork(),
    tables: [
      { name: fleetTable.id, partitionKey: fleetTable.partitionKey.name },
      {
        name: serverRegistryTable.id,
        partitionKey: serverRegistryTable.partitionKey.name,
        sortKey: serverRegistryTable.sortKey.name,
      },
    ],
  });
  const servers = new Map<string, SimServer>();
  const serverConfig = { ...defaultServerConfig, kvAdmission: config.kvAdmission };
  for (let i = 0; i < config.servers; i++) {
    const id = serverId(i);
    servers.set(id, new SimServer(id, serverUrl(i), serverConfig, time));
  }

  // The operator registers the fleet through the real registry adapter.
  const operator = new DynamoDbServerRegistry(model.client('operator'), serverRegistryTable.id, {
    clock: time,
  });
  const seeding = Promise.all(
    [...servers.values()].map((server) =>
      operator.put({ id: server.id, baseUrl: server.baseUrl, capacity: server.capacity, status: 'active' }),
    ),
  );
  await time.run(time.now() + 100);
  await seeding;

  const log = new CountingLog();
  const heartbeat = new HeartbeatStats();
  const heartbeatDoc = model.client('heartbeat');
  const probeRandom = random.fork();
  const probeConfig = {
    ...defaultProbeConfig,
    timeoutMs: settings.probeTimeoutMs,
    timeoutShare: config.scrapeTimeoutShare,
  };
  const probes: SimLoadProbe[] = [];
  const workers: HeartbeatWorker[] = [];
  for (let shard = 0; shard < config.shards; shard++) {
    const probe = new SimLoadProbe(servers, time, probeRandom, probeConfig, heartbeat.scrapeMs);
    probes.push(probe);
    workers.push(
      new HeartbeatWorker({
        shard,
        shards: config.shards,
        registry: new DynamoDbServerRegistry(heartbeatDoc, serverRegistryTable.id, { clock: time }),
        probe,
        fleet: new DynamoDbFleetRepository(heartbeatDoc, fleetTable.id),
        clock: time,
        policy: settings.policy,
        log,
        registryRefreshMs: settings.registryRefreshMs,
      }),
    );
  }

  const chatFleet = new SharedViews(model.client('chat'), fleetTable.id, config.realViews);
  const gateRandom = random.fork();
  const pool = new ContainerPool(() => ({
    gate: new FleetGate({
      fleet: chatFleet,
      shards: config.shards,
      clock: time,
      random: gateRandom.uniform,
      policy: settings.policy,
      backoff: settings.backoff,
      cacheMs: settings.intervalMs,
      premiumWaitMs: settings.premiumWaitMs,
      sleep: time.sleep,
    }),
  }));
  return { time, random, model, servers, workers, probes, heartbeat, pool, log, settings, epochMs };
}
