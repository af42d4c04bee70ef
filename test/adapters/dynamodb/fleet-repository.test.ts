import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import type { FleetState, ServerLoad } from '../../../domain/fleet';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let table: string;
let repo: DynamoDbFleetRepository;

beforeAll(async () => {
  db = await startTestDynamoDb();
  table = db.tableNames.FleetTable;
  repo = new DynamoDbFleetRepository(db.doc, table);
});

afterAll(async () => {
  await db?.close();
});

beforeEach(async () => {
  // Every test starts without a state item.
  await db.doc.send(new DeleteCommand({ TableName: table, Key: { pk: 'STATE' } }));
});

const at = 1_750_000_000_000;

function server(id: string, overrides: Partial<ServerLoad> = {}): ServerLoad {
  return {
    id,
    baseUrl: `http://10.0.0.${id.length}:8000`,
    running: 3,
    waiting: 1,
    kvCacheUsage: 0.42,
    capacity: 10,
    healthy: true,
    updatedAt: at,
    ...overrides,
  };
}

function state(overrides: Partial<FleetState> = {}): FleetState {
  return {
    mode: 'shed_free',
    load: 0.85,
    smoothedLoad: 0.83,
    freeAdmitRatio: 0.4,
    shedSince: at - 30_000,
    belowSince: at - 5_000,
    freeReturnsAt: at + 115_000,
    updatedAt: at,
    version: 1,
    servers: [
      server('gpu-1'),
      server('gpu-2', { healthy: false, running: 0, waiting: 0, kvCacheUsage: undefined }),
    ],
    ...overrides,
  };
}

describe('DynamoDbFleetRepository.saveServers', () => {
  it('writes one SERVER#<id> item per server with snake_case attributes', async () => {
    // Prepare
    const servers = [
      server('gpu-1'),
      server('gpu-2', { healthy: false, running: 0, waiting: 0, kvCacheUsage: undefined }),
    ];

    // Act
    await repo.saveServers(servers);

    // Assess
    const first = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'SERVER#gpu-1' } }));
    const second = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'SERVER#gpu-2' } }));
    expect(first.Item).toEqual({
      pk: 'SERVER#gpu-1',
      id: 'gpu-1',
      base_url: 'http://10.0.0.5:8000',
      running: 3,
      waiting: 1,
      kv_cache_usage: 0.42,
      capacity: 10,
      healthy: true,
      updated_at: at,
    });
    expect(second.Item).toEqual({
      pk: 'SERVER#gpu-2',
      id: 'gpu-2',
      base_url: 'http://10.0.0.5:8000',
      running: 0,
      waiting: 0,
      capacity: 10,
      healthy: false,
      updated_at: at,
    });
  });

  it('writes more servers than one batch holds, and overwrites earlier reports', async () => {
    // Prepare
    const many = Array.from({ length: 30 }, (_, i) => server(`node-${i}`, { running: 1 }));
    await repo.saveServers(many);
    const later = many.map((load) => ({ ...load, running: 7, updatedAt: at + 1000 }));

    // Act
    await repo.saveServers(later);

    // Assess
    const last = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'SERVER#node-29' } }));
    expect(last.Item).toMatchObject({ running: 7, updated_at: at + 1000 });
  });

  it('accepts an empty list', async () => {
    // Act
    const act = repo.saveServers([]);

    // Assess
    await expect(act).resolves.toBeUndefined();
  });
});

describe('DynamoDbFleetRepository state', () => {
  it('returns undefined before any state was written', async () => {
    // Act
    const stored = await repo.getState();

    // Assess
    expect(stored).toBeUndefined();
  });

  it('round-trips the state, its optional times and its servers snapshot in one item', async () => {
    // Prepare
    const written = state();

    // Act
    const saved = await repo.saveState(written, undefined);
    const stored = await repo.getState();

    // Assess
    expect(saved).toBe(true);
    expect(stored).toEqual(written);
    const raw = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'STATE' } }));
    expect(raw.Item).toMatchObject({
      pk: 'STATE',
      mode: 'shed_free',
      load: 0.85,
      free_admit_ratio: 0.4,
      shed_since: at - 30_000,
      below_since: at - 5_000,
      free_returns_at: at + 115_000,
      updated_at: at,
      version: 1,
    });
    expect(raw.Item?.servers).toHaveLength(2);
    expect(raw.Item?.servers[0]).toMatchObject({
      id: 'gpu-1',
      base_url: 'http://10.0.0.5:8000',
      healthy: true,
    });
  });

  it('stores an infinite load (no available server) as null and reads it back as Infinity', async () => {
    // Prepare
    const saturated = state({
      mode: 'saturated',
      load: Number.POSITIVE_INFINITY,
      belowSince: undefined,
      servers: [server('gpu-1', { healthy: false, running: 0, waiting: 0, kvCacheUsage: undefined })],
    });

    // Act
    await repo.saveState(saturated, undefined);
    const stored = await repo.getState();

    // Assess
    const raw = await db.doc.send(new GetCommand({ TableName: table, Key: { pk: 'STATE' } }));
    expect(raw.Item?.load).toBeNull();
    expect(raw.Item).not.toHaveProperty('below_since');
    expect(stored?.load).toBe(Number.POSITIVE_INFINITY);
    expect(stored).toEqual(saturated);
  });

  it('writes only over the expected version', async () => {
    // Prepare
    await repo.saveState(state({ version: 1 }), undefined);

    // Act
    const firstAgain = await repo.saveState(state({ version: 1 }), undefined);
    const stale = await repo.saveState(state({ version: 3 }), 2);
    const next = await repo.saveState(state({ version: 2, mode: 'normal' }), 1);
    const replay = await repo.saveState(state({ version: 2, mode: 'saturated' }), 1);

    // Assess
    expect([firstAgain, stale, next, replay]).toEqual([false, false, true, false]);
    expect(await repo.getState()).toMatchObject({ version: 2, mode: 'normal' });
  });

  it('lets exactly one of two concurrent writers with the same expected version win', async () => {
    // Prepare
    await repo.saveState(state({ version: 4 }), undefined);

    // Act
    const results = await Promise.all([
      repo.saveState(state({ version: 5, mode: 'normal' }), 4),
      repo.saveState(state({ version: 5, mode: 'saturated' }), 4),
    ]);

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await repo.getState();
    expect(stored?.version).toBe(5);
    expect(stored?.mode).toBe(results[0] ? 'normal' : 'saturated');
  });

  it('lets exactly one of two concurrent first writers win', async () => {
    // Act
    const results = await Promise.all([
      repo.saveState(state({ version: 1, mode: 'normal' }), undefined),
      repo.saveState(state({ version: 1, mode: 'saturated' }), undefined),
    ]);

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('throws on a malformed state item instead of admitting on garbage', async () => {
    // Prepare
    await db.doc.send(
      new PutCommand({ TableName: table, Item: { pk: 'STATE', mode: 'panic', version: 1, servers: [] } }),
    );

    // Act
    const act = repo.getState();

    // Assess
    await expect(act).rejects.toThrow(/Malformed fleet state item: mode panic/);
  });
});
