import { DynamoDbFleetRepository } from '../../adapters/dynamodb/fleet-repository';
import { DynamoDbServerRegistry } from '../../adapters/dynamodb/server-registry';
import { MetricsLoadProbe } from '../../adapters/fleet/metrics-load-probe';
import { validateShard } from '../../domain/fleet-shards';
import { fleetPolicy, heartbeatIntervalMs } from '../../settings/policies';
import type { Settings } from '../../settings/settings';
import { HeartbeatWorker } from '../../use-cases/heartbeat-tick';
import { recordFleet } from '../commons/metrics';
import { fleetMetricsEvery, type ShardHeartbeat } from '../heartbeat/loop';
import { createFleetApiKey } from './fleet-api-key';
import { type Infrastructure, once } from './infrastructure';

/** The heartbeat's wiring: `forShard(k)` is everything the worker of shard k needs. */
export function createHeartbeat(settings: Settings, infrastructure: Infrastructure) {
  const { documentClient, clock, log } = infrastructure;
  const registry = once(() => new DynamoDbServerRegistry(documentClient, settings.serverRegistryTableName));
  const fleet = once(() => new DynamoDbFleetRepository(documentClient, settings.fleetTableName));
  // One key for every shard's worker: a container reads the secret once.
  const apiKey = once(() => createFleetApiKey(settings));

  /** Throws for a shard outside FLEET_SHARDS. */
  const forShard = (shard: number): ShardHeartbeat => {
    const shards = settings.fleetShards;
    const intervalMs = heartbeatIntervalMs(settings);
    const worker = new HeartbeatWorker({
      shard: validateShard(shard, shards),
      shards,
      registry: registry(),
      probe: new MetricsLoadProbe({
        clock,
        timeoutMs: settings.heartbeatProbeTimeoutMs,
        log,
        apiKey: apiKey(),
      }),
      fleet: fleet(),
      clock,
      policy: fleetPolicy(settings),
      log,
      registryRefreshMs: settings.registryRefreshSeconds * 1000,
    });
    return {
      worker,
      clock,
      log,
      intervalMs,
      // Shard k of n ticks at k/n of the interval, so the workers do not all scrape at the same instant.
      phaseMs: (shard / shards) * intervalMs,
      tickTimeoutMs: settings.heartbeatTickTimeoutMs,
      onState: fleetMetricsEvery(10_000, recordFleet),
      runForMs: settings.heartbeatRunSeconds * 1000,
    };
  };
  return { shards: settings.fleetShards, forShard };
}
