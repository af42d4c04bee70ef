import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbFleetRepository } from '../../adapters/dynamodb/fleet-repository';
import { DynamoDbServerRegistry } from '../../adapters/dynamodb/server-registry';
import { shardOf } from '../../domain/fleet-shards';
import type { Log } from '../../domain/ports';
import { fleetPolicy } from '../../settings/policies';
import { readSettings } from '../../settings/read';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

const vllmText = readFileSync(new URL('../fixtures/metrics/vllm.txt', import.meta.url), 'utf8');

/** Ids for the handler's two shards (FLEET_SHARDS=2): one server in each. */
const HEALTHY = 'gpu-0';
const DOWN = 'gpu-1';

let db: TestDynamoDb;
let metricsServer: Server;
let views: DynamoDbFleetRepository;
let module: typeof import('../../functions/run-heartbeat');
/** Imported once the environment is stubbed: functions/settings.ts reads it when first loaded. */
let wiring: typeof import('../../functions/wiring/heartbeat');

beforeAll(async () => {
  db = await startTestDynamoDb();
  metricsServer = createServer((req, res) => {
    if (req.url === '/metrics') res.writeHead(200).end(vllmText);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  const port = (metricsServer.address() as AddressInfo).port;
  for (const [name, value] of Object.entries(db.env)) vi.stubEnv(name, value);
  vi.stubEnv('FLEET_SHARDS', '2');
  vi.stubEnv('HEARTBEAT_INTERVAL_SECONDS', '0.05');
  vi.stubEnv('HEARTBEAT_RUN_SECONDS', '0.2');
  vi.stubEnv('HEARTBEAT_PROBE_TIMEOUT_MS', '5000');
  vi.stubEnv('HEARTBEAT_TICK_TIMEOUT_MS', '10000');
  // Long enough that one shard's totals are still fresh when the other shard's handler runs.
  vi.stubEnv('SERVER_STALE_SECONDS', '60');
  vi.stubEnv('SHED_FREE_AT', '0.7');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  vi.stubEnv('INFERENCE_SERVERS', 'ignored=http://127.0.0.1:9');
  const registry = new DynamoDbServerRegistry(db.doc, db.tableNames.ServerRegistryTable);
  await registry.put({ id: HEALTHY, baseUrl: `http://127.0.0.1:${port}`, capacity: 20, status: 'active' });
  await registry.put({ id: DOWN, baseUrl: `http://127.0.0.1:${port}/down`, capacity: 12, status: 'active' });
  views = new DynamoDbFleetRepository(db.doc, db.tableNames.FleetTable);
  module = await import('../../functions/run-heartbeat');
  wiring = await import('../../functions/wiring/heartbeat');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  metricsServer?.closeAllConnections();
  await new Promise((resolve) => metricsServer?.close(resolve));
  await db?.close();
});

class CapturingLog implements Log {
  readonly errors: Record<string, unknown>[] = [];
  info = () => {};
  warn = () => {};
  error = (_message: string, ...extra: Record<string, unknown>[]) => {
    this.errors.push(Object.assign({}, ...extra));
  };
}

/** The settings of this file's environment with these variables changed (undefined: unset). */
function settingsWith(vars: Record<string, string | undefined>) {
  return readSettings({ ...process.env, ...vars });
}

/** The composition root the handler uses, on these settings and the test table's client. */
function heartbeatFor(shard: number, vars: Record<string, string | undefined> = {}) {
  const infrastructure = {
    documentClient: db.doc,
    clock: { now: () => Date.now() },
    log: new CapturingLog(),
  };
  return wiring.createHeartbeat(settingsWith(vars), infrastructure).forShard(shard);
}

describe('fleetPolicy (settings/policies.ts)', () => {
  it('reads the thresholds the chat function shares, with the stale time three intervals by default', () => {
    // Act
    const policy = fleetPolicy(settingsWith({ SERVER_STALE_SECONDS: undefined }));

    // Assess
    expect(policy).toMatchObject({
      shedFreeAt: 0.7,
      saturatedAt: 1,
      freeCooldownMs: 120_000,
      staleAfterMs: 150,
    });
  });

  it('refuses a shed threshold above the saturation threshold', () => {
    // Act
    const act = () => fleetPolicy(settingsWith({ SHED_FREE_AT: '1.2' }));

    // Assess
    expect(act).toThrow(/SHED_FREE_AT/);
  });
});

describe('createHeartbeat(…).forShard (functions/wiring/heartbeat.ts)', () => {
  it('reads the interval, the run length and the tick time-out, and builds a worker for the shard', async () => {
    // Act
    const deps = heartbeatFor(1);
    const view = await deps.worker.tick();

    // Assess
    expect(deps.intervalMs).toBe(50);
    expect(deps.runForMs).toBe(200);
    expect(deps.tickTimeoutMs).toBe(10_000);
    // Shard 1 of 2 ticks half an interval after shard 0.
    expect(deps.phaseMs).toBe(25);
    // The worker reads its shard's servers from the registry table, not from INFERENCE_SERVERS.
    expect(view.shard).toBe(1);
    expect(view.servers.map((server) => [server.id, server.capacity, server.healthy])).toEqual([
      [DOWN, 12, false],
    ]);
  });

  it('times a tick out after 4 intervals, at least 2 s, when HEARTBEAT_TICK_TIMEOUT_MS is unset', () => {
    // Act
    const short = heartbeatFor(0, { HEARTBEAT_TICK_TIMEOUT_MS: undefined });
    const long = heartbeatFor(0, { HEARTBEAT_TICK_TIMEOUT_MS: undefined, HEARTBEAT_INTERVAL_SECONDS: '1' });

    // Assess
    expect([short.tickTimeoutMs, long.tickTimeoutMs]).toEqual([2_000, 4_000]);
  });

  it.each(['3', '0', '128', 'many', '1.5'])('throws on FLEET_SHARDS=%s', (shards) => {
    // Act
    const act = () => heartbeatFor(0, { FLEET_SHARDS: shards });

    // Assess
    expect(act).toThrow(/FLEET_SHARDS|fleet shard count/);
  });

  it.each([2, -1, 0.5, Number.NaN])('throws on shard %s outside [0, 2)', (shard) => {
    // Act
    const act = () => heartbeatFor(shard);

    // Assess
    expect(act).toThrow(/heartbeat shard must be an integer in \[0, 2\)/);
  });
});

describe('handler', () => {
  const context = (remainingMs: () => number, id: string) =>
    ({
      functionName: 'RunHeartbeat',
      awsRequestId: id,
      getRemainingTimeInMillis: remainingMs,
    }) as unknown as Context;

  it('runs the loop for one invocation of shard 0 (no shard in the event) and leaves its view in the table', async () => {
    // Prepare
    const deadline = Date.now() + 30_000;
    expect([shardOf(HEALTHY, 2), shardOf(DOWN, 2)]).toEqual([0, 1]);

    // Act
    const result = await module.handler(
      {},
      context(() => deadline - Date.now(), 'req-1'),
    );

    // Assess
    expect(result.ticks).toBeGreaterThanOrEqual(1);
    expect(result.failures).toBe(0);
    const view = await views.getView(0, { consistent: true });
    expect(view?.servers).toEqual([
      expect.objectContaining({
        id: HEALTHY,
        running: 12,
        waiting: 3,
        kvCacheUsage: 0.4172,
        capacity: 20,
        healthy: true,
      }),
    ]);
    // 15 of 20 on the only available server: 0.75 ≥ SHED_FREE_AT 0.7.
    expect(view).toMatchObject({ shard: 0, mode: 'shed_free', load: 0.75 });
    expect(view?.version).toBe(result.ticks);
  });

  it('works for the shard named in the event, with the other shard’s totals in its fleet load', async () => {
    // Prepare: shard 0's view exists (fresh for SERVER_STALE_SECONDS).
    const deadline = Date.now() + 30_000;
    await module.handler(
      { shard: 0 },
      context(() => deadline - Date.now(), 'req-2'),
    );

    // Act
    const result = await module.handler(
      { shard: 1 },
      context(() => deadline - Date.now(), 'req-3'),
    );

    // Assess
    expect(result.failures).toBe(0);
    const view = await views.getView(1, { consistent: true });
    expect(view?.servers.map((server) => [server.id, server.healthy])).toEqual([[DOWN, false]]);
    expect(view?.totals).toMatchObject({ shard: 1, used: 0, capacity: 0, safeServers: 0 });
    // Shard 1 has nothing available; the fleet does (shard 0): the same load and mode as shard 0's view.
    expect(view).toMatchObject({ shard: 1, mode: 'shed_free', load: 0.75 });
  });

  it('fails the invocation for a shard outside FLEET_SHARDS', async () => {
    // Act
    const act = module.handler(
      { shard: 2 },
      context(() => 30_000, 'req-4'),
    );

    // Assess
    await expect(act).rejects.toThrow(/heartbeat shard must be an integer in \[0, 2\)/);
  });

  it('stops early when the function is about to time out', async () => {
    // Act
    const result = await module.handler(
      {},
      context(() => 1_000, 'req-5'),
    );

    // Assess
    expect(result.ticks).toBe(1);
  });
});
