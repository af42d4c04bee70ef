import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultFleetPolicy, type FleetState, type ServerLoad } from '../../domain/fleet';
import type { FleetRepository, LoadProbe } from '../../domain/ports';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

const vllmText = readFileSync(new URL('../fixtures/metrics/vllm.txt', import.meta.url), 'utf8');

let db: TestDynamoDb;
let metricsServer: Server;
let module: typeof import('../../functions/run-heartbeat');

beforeAll(async () => {
  db = await startTestDynamoDb();
  metricsServer = createServer((req, res) => {
    if (req.url === '/metrics') res.writeHead(200).end(vllmText);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => metricsServer.listen(0, '127.0.0.1', resolve));
  const port = (metricsServer.address() as AddressInfo).port;
  for (const [name, value] of Object.entries(db.env)) vi.stubEnv(name, value);
  vi.stubEnv('INFERENCE_SERVERS', `gpu-1=http://127.0.0.1:${port}|20,gpu-2=http://127.0.0.1:${port}/down`);
  vi.stubEnv('HEARTBEAT_INTERVAL_SECONDS', '0.05');
  vi.stubEnv('HEARTBEAT_RUN_SECONDS', '0.2');
  vi.stubEnv('HEARTBEAT_PROBE_TIMEOUT_MS', '5000');
  vi.stubEnv('DEFAULT_SERVER_CAPACITY', '12');
  vi.stubEnv('SHED_FREE_AT', '0.7');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
  module = await import('../../functions/run-heartbeat');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  metricsServer?.closeAllConnections();
  await new Promise((resolve) => metricsServer?.close(resolve));
  await db?.close();
});

class FakeClock {
  t = 1_750_000_000_250;
  now = () => this.t;
}

function fakeDeps(clock: FakeClock, overrides: { failTicks?: number } = {}) {
  let failures = overrides.failTicks ?? 0;
  let state: FleetState | undefined;
  const fleet: FleetRepository = {
    saveServers: async () => {
      if (failures > 0) {
        failures--;
        throw new Error('ProvisionedThroughputExceeded');
      }
    },
    getState: async () => state,
    saveState: async (next, expected) => {
      if (state?.version !== expected) return false;
      state = next;
      return true;
    },
  };
  const probe: LoadProbe = {
    probe: async (server): Promise<ServerLoad> => ({
      ...server,
      running: 1,
      waiting: 0,
      healthy: true,
      updatedAt: clock.now(),
    }),
  };
  const errors: Record<string, unknown>[] = [];
  const sleeps: number[] = [];
  return {
    sleeps,
    errors,
    state: () => state,
    deps: {
      servers: [{ id: 'gpu-1', baseUrl: 'http://gpu-1', capacity: 4 }],
      probe,
      fleet,
      clock,
      policy: defaultFleetPolicy,
      log: {
        info: () => {},
        warn: () => {},
        error: (_m: string, ...extra: Record<string, unknown>[]) => errors.push(...extra),
      },
      intervalMs: 1000,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock.t += ms;
      },
    },
  };
}

describe('runHeartbeat', () => {
  it('ticks, then sleeps to the next interval boundary, until told to stop', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const { deps, sleeps, state } = fakeDeps(clock);

    // Act
    const result = await module.runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 4_000);

    // Assess
    expect(result).toEqual({ ticks: 5, failures: 0 });
    expect(sleeps).toEqual([750, 1000, 1000, 1000]);
    expect(state()?.version).toBe(5);
  });

  it('logs a failed tick and goes on', async () => {
    // Prepare
    const clock = new FakeClock();
    const start = clock.t;
    const { deps, errors, state } = fakeDeps(clock, { failTicks: 2 });

    // Act
    const result = await module.runHeartbeat(deps, (nextTickAt) => nextTickAt - start >= 4_000);

    // Assess
    expect(result).toEqual({ ticks: 5, failures: 2 });
    expect(errors).toEqual([
      { error: 'Error', detail: 'ProvisionedThroughputExceeded' },
      { error: 'Error', detail: 'ProvisionedThroughputExceeded' },
    ]);
    expect(state()?.version).toBe(3);
  });

  it('stops after the current tick when its signal aborts', async () => {
    // Prepare
    const clock = new FakeClock();
    const controller = new AbortController();
    const { deps } = fakeDeps(clock);
    const sleep = async (ms: number) => {
      clock.t += ms;
      controller.abort();
    };

    // Act
    const result = await module.runHeartbeat({ ...deps, sleep, signal: controller.signal }, () => false);

    // Assess
    expect(result.ticks).toBe(1);
  });

  it('wakes from a real sleep when aborted (local runtime shutdown)', async () => {
    // Prepare
    const controller = new AbortController();
    const { deps } = fakeDeps(new FakeClock());
    const realClockDeps = {
      ...deps,
      clock: { now: () => Date.now() },
      intervalMs: 3_600_000,
      sleep: undefined,
    };

    // Act
    const running = module.runHeartbeat({ ...realClockDeps, signal: controller.signal }, () => false);
    setTimeout(() => controller.abort(), 20);
    const result = await running;

    // Assess
    expect(result).toEqual({ ticks: 1, failures: 0 });
  });
});

describe('fleetPolicyFromEnv', () => {
  it('reads the thresholds the chat function shares, with the stale time three intervals by default', () => {
    // Act
    const policy = module.fleetPolicyFromEnv();

    // Assess
    expect(policy).toMatchObject({
      shedFreeAt: 0.7,
      saturatedAt: 1,
      freeCooldownMs: 120_000,
      staleAfterMs: 150,
    });
  });

  it('refuses a shed threshold above the saturation threshold', () => {
    const previous = process.env.SHED_FREE_AT;
    process.env.SHED_FREE_AT = '1.2';
    try {
      expect(() => module.fleetPolicyFromEnv()).toThrow(/SHED_FREE_AT/);
    } finally {
      process.env.SHED_FREE_AT = previous;
    }
  });
});

describe('heartbeatDepsFromEnv', () => {
  it('reads the servers with their capacities, the interval and the run length', () => {
    // Act
    const deps = module.heartbeatDepsFromEnv();

    // Assess
    expect(deps.servers.map((server) => [server.id, server.capacity])).toEqual([
      ['gpu-1', 20],
      ['gpu-2', 12],
    ]);
    expect(deps.intervalMs).toBe(50);
    expect(deps.runForMs).toBe(200);
  });
});

describe('handler', () => {
  it('runs the loop for one invocation and leaves server items and the fleet state in the table', async () => {
    // Prepare
    const deadline = Date.now() + 30_000;
    const context = {
      functionName: 'RunHeartbeat',
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => deadline - Date.now(),
    } as unknown as Context;

    // Act
    const result = await module.handler({}, context);

    // Assess
    expect(result.ticks).toBeGreaterThanOrEqual(1);
    expect(result.failures).toBe(0);
    const table = db.tableNames.FleetTable;
    const gpu1 = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'SERVER#gpu-1' } }));
    const gpu2 = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'SERVER#gpu-2' } }));
    const state = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'STATE' } }));
    expect(gpu1.Item).toMatchObject({
      running: 12,
      waiting: 3,
      kv_cache_usage: 0.4172,
      capacity: 20,
      healthy: true,
    });
    expect(gpu2.Item).toMatchObject({ running: 0, waiting: 0, capacity: 12, healthy: false });
    // 15 of 20 on the only available server: 0.75 ≥ SHED_FREE_AT 0.7.
    expect(state.Item).toMatchObject({ mode: 'shed_free', load: 0.75, version: result.ticks });
  });

  it('stops early when the function is about to time out', async () => {
    // Prepare
    const context = {
      functionName: 'RunHeartbeat',
      awsRequestId: 'req-2',
      getRemainingTimeInMillis: () => 1_000,
    } as unknown as Context;

    // Act
    const result = await module.handler({}, context);

    // Assess
    expect(result.ticks).toBe(1);
  });
});
