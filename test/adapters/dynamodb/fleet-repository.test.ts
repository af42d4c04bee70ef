/**
 * The fleet table's view items against dynalite: one VIEW#<shard> item per heartbeat shard, written under
 * optimistic concurrency, read one at a time by the chat function and as totals by every heartbeat worker.
 * The sizing tests compute the stored item's size by DynamoDB's rules (attribute names plus values), since
 * a view's size is the price of every admission read and of every heartbeat write.
 */
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbFleetRepository, viewKey } from '../../../adapters/dynamodb/fleet-repository';
import type { FleetState, ServerLoad, ShardTotals } from '../../../domain/fleet';
import { REGISTRY_BUCKETS, shardOf } from '../../../domain/fleet-shards';
import { fleetTable } from '../../../lib/resources';
import { ensureTables } from '../../../local/emulators/dynamodb';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

const KB = 1024;
const at = 1_750_000_000_000;

let db: TestDynamoDb;
let tableCount = 0;

beforeAll(async () => {
  db = await startTestDynamoDb({ definitions: [] });
});

afterAll(async () => {
  await db?.close();
});

/** Each test gets its own empty fleet table, shaped by lib/resources.ts. */
async function freshRepository(): Promise<{ table: string; repo: DynamoDbFleetRepository }> {
  tableCount++;
  const table = `Fleet${tableCount}`;
  await ensureTables(db.client, [{ ...fleetTable, id: table }]);
  return { table, repo: new DynamoDbFleetRepository(db.doc, table) };
}

/** The item as DynamoDB stores it (attribute values, not unmarshalled). */
async function rawItem(table: string, shard: number): Promise<Record<string, AttributeValue> | undefined> {
  const output = await db.client.send(
    new GetItemCommand({ TableName: table, Key: { pk: { S: viewKey(shard) } }, ConsistentRead: true }),
  );
  return output.Item;
}

async function storedItem(table: string, shard: number): Promise<Record<string, unknown> | undefined> {
  const output = await db.doc.send(
    new GetCommand({ TableName: table, Key: { pk: viewKey(shard) }, ConsistentRead: true }),
  );
  return output.Item;
}

function server(id: string, overrides: Partial<ServerLoad> = {}): ServerLoad {
  return {
    id,
    baseUrl: `http://10.0.0.${id.length}:8000`,
    running: 3,
    waiting: 1,
    kvCacheUsage: 0.42,
    capacity: 10,
    completedTotal: 1_234,
    completionRate: 2.5,
    healthy: true,
    updatedAt: at - 120,
    ...overrides,
  };
}

function totals(shard: number, overrides: Partial<ShardTotals> = {}): ShardTotals {
  return { shard, used: 7.5, capacity: 30, safeServers: 2, updatedAt: at, ...overrides };
}

function view(overrides: Partial<FleetState> = {}): FleetState {
  const shard = overrides.shard ?? 3;
  return {
    shard,
    totals: totals(shard),
    mode: 'shed_free',
    load: 0.85,
    smoothedLoad: 0.83,
    noSafeSince: at - 1_000,
    freeAdmitRatio: 0.4,
    shedSince: at - 30_000,
    belowSince: at - 5_000,
    freeReturnsAt: at + 115_000,
    updatedAt: at,
    version: 1,
    servers: [
      server('gpu-1'),
      // Unhealthy: no KV gauge, counter or rate (what the heartbeat writes for a failed scrape).
      {
        id: 'gpu-2',
        baseUrl: 'http://10.0.0.2:8000',
        running: 0,
        waiting: 0,
        capacity: 12,
        healthy: false,
        updatedAt: at - 2_500,
      },
      // TGI / llama.cpp: no KV gauge, no counter, no rate; and drained by an operator.
      {
        id: 'gpu-3',
        baseUrl: 'https://gpu-3.internal',
        running: 2,
        waiting: 0,
        capacity: 8,
        healthy: true,
        draining: true,
        updatedAt: at,
      },
      // Draining and unhealthy at once.
      {
        id: 'gpu-4',
        baseUrl: 'http://10.0.0.4:8000',
        running: 0,
        waiting: 0,
        capacity: 8,
        healthy: false,
        draining: true,
        updatedAt: at - 40,
      },
    ],
    ...overrides,
  };
}

/** DynamoDB's number size: 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1. */
function numberBytes(text: string): number {
  const mantissa = (text.replace(/^[+-]/, '').split(/e/i)[0] ?? '').replace('.', '');
  const digits = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

/** The size of one attribute value by DynamoDB's rules (docs: "Item sizes and formats"). */
function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + valueBytes(element), 0);
  if (value.M !== undefined) return 3 + itemBytes(value.M) + Object.keys(value.M).length;
  if (value.SS !== undefined) return value.SS.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, text) => sum + numberBytes(text), 0);
  throw new Error(`unsupported attribute value ${JSON.stringify(value)}`);
}

/** An item's size as DynamoDB bills and limits it: every attribute's name plus its value. */
function itemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name, 'utf8') + valueBytes(value),
    0,
  );
}

/** Deterministic uniform numbers in [0, 1) (mulberry32), so sizes do not change between runs. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The view heartbeat shard `shard` of `shards` writes for a fleet of `fleet` servers named gpu-0 … gpu-<n-1>
 * (hashed to shards as the registry does), with the longest fields a busy fleet has: private IPs of full
 * length, fractional KV gauges and rates, counters of a server up for weeks, the summary of a shedding fleet.
 */
function realisticView(fleet: number, shards: number, shard: number): FleetState {
  const random = seeded(fleet * 100 + shard);
  const servers: ServerLoad[] = [];
  for (let i = 0; i < fleet; i++) {
    const id = `gpu-${i}`;
    if (shardOf(id, shards) !== shard) continue;
    const capacity = 64;
    servers.push({
      id,
      baseUrl: `http://10.${100 + (i % 156)}.${100 + ((i * 37) % 156)}.${100 + ((i * 101) % 156)}:8000`,
      running: Math.floor(random() * 48),
      waiting: Math.floor(random() * 16),
      kvCacheUsage: random(),
      capacity,
      completedTotal: 1_000_000 + Math.floor(random() * 9_000_000),
      completionRate: random() * 20,
      healthy: true,
      updatedAt: at - Math.floor(random() * 500),
    });
  }
  return view({
    shard,
    totals: totals(shard, { used: 1234.56789, capacity: 64 * servers.length, safeServers: servers.length }),
    load: 0.876543219,
    smoothedLoad: 0.865432198,
    freeAdmitRatio: 0.123456789,
    version: 123_456_789,
    servers,
  });
}

/** The fullest shard's view (shards are not exactly even), written to the table; its stored size. */
async function fullestShardSize(fleet: number, shards: number) {
  const { table, repo } = await freshRepository();
  const views = Array.from({ length: shards }, (_, shard) => realisticView(fleet, shards, shard));
  const fullest = views.reduce((most, candidate) =>
    candidate.servers.length > most.servers.length ? candidate : most,
  );
  const saved = await repo.saveView(fullest, undefined);
  const item = await rawItem(table, fullest.shard);
  if (!item) throw new Error('the view was not stored');
  return { saved, servers: fullest.servers.length, bytes: itemBytes(item), repo, fullest };
}

describe('DynamoDbFleetRepository.getView / saveView', () => {
  it('returns undefined before the shard has a view', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const stored = await repo.getView(3);

    // Assess
    expect(stored).toBeUndefined();
  });

  it('round-trips a view: summary, totals, and healthy, unhealthy and draining servers with optional gauges', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    const written = view();

    // Act
    const saved = await repo.saveView(written, undefined);
    const stored = await repo.getView(3);

    // Assess
    expect(saved).toBe(true);
    expect(stored).toEqual(written);
    expect(stored?.servers[1]).not.toHaveProperty('kvCacheUsage');
    expect(stored?.servers[1]).not.toHaveProperty('completionRate');
    expect(stored?.servers[2]).not.toHaveProperty('completedTotal');
    expect(stored?.servers[0]).not.toHaveProperty('draining');
    const raw = await storedItem(table, 3);
    expect(raw).toEqual({
      pk: 'VIEW#3',
      shard: 3,
      mode: 'shed_free',
      load: 0.85,
      smoothed_load: 0.83,
      free_admit_ratio: 0.4,
      no_safe_since: at - 1_000,
      shed_since: at - 30_000,
      below_since: at - 5_000,
      free_returns_at: at + 115_000,
      updated_at: at,
      version: 1,
      t_used: 7.5,
      t_capacity: 30,
      t_safe: 2,
      servers: [
        'gpu-1 http://10.0.0.5:8000 10 3 1 0.42 1234 2.5 h 120',
        'gpu-2 http://10.0.0.2:8000 12 0 0 - - - - 2500',
        'gpu-3 https://gpu-3.internal 8 2 0 - - - hd 0',
        'gpu-4 http://10.0.0.4:8000 8 0 0 - - - d 40',
      ].join('\n'),
    });
  });

  it('stores a view without servers without the servers attribute and reads it back empty', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    const empty = view({ servers: [], totals: totals(3, { used: 0, capacity: 0, safeServers: 0 }) });

    // Act
    await repo.saveView(empty, undefined);
    const stored = await repo.getView(3);

    // Assess
    expect(await storedItem(table, 3)).not.toHaveProperty('servers');
    expect(stored).toEqual(empty);
  });

  it('stores an infinite load (no available server) as null and reads it back as Infinity', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    const saturated = view({
      mode: 'saturated',
      load: Number.POSITIVE_INFINITY,
      smoothedLoad: Number.POSITIVE_INFINITY,
      belowSince: undefined,
      noSafeSince: undefined,
    });

    // Act
    await repo.saveView(saturated, undefined);
    const stored = await repo.getView(3);

    // Assess
    const raw = await storedItem(table, 3);
    expect(raw?.load).toBeNull();
    expect(raw?.smoothed_load).toBeNull();
    expect(raw).not.toHaveProperty('below_since');
    expect(raw).not.toHaveProperty('no_safe_since');
    expect(stored?.load).toBe(Number.POSITIVE_INFINITY);
    expect(stored?.smoothedLoad).toBe(Number.POSITIVE_INFINITY);
    expect(stored).toEqual(saturated);
  });

  it('keeps each shard in its own item', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const first = await repo.saveView(view({ shard: 0, mode: 'normal' }), undefined);
    const second = await repo.saveView(view({ shard: 1, mode: 'saturated' }), undefined);

    // Assess
    expect([first, second]).toEqual([true, true]);
    expect((await repo.getView(0))?.mode).toBe('normal');
    expect((await repo.getView(1))?.mode).toBe('saturated');
    expect(await repo.getView(2)).toBeUndefined();
  });

  it('keeps a server counter exact: the completion rate is the difference of two scrapes of it', async () => {
    // Prepare: a server that has served a few million requests since it started.
    const { repo } = await freshRepository();
    const counted = view({ servers: [server('gpu-1', { completedTotal: 12_345_678 })] });

    // Act
    await repo.saveView(counted, undefined);
    const stored = await repo.getView(3);

    // Assess
    expect(stored?.servers[0]?.completedTotal).toBe(12_345_678);
  });

  it('keeps gauges to 6 significant digits (bytes are read cost)', async () => {
    // Prepare
    const { repo } = await freshRepository();
    const precise = view({
      load: 0.123456789,
      servers: [server('gpu-1', { kvCacheUsage: 0.987654321, completionRate: 4.567891234 })],
    });

    // Act
    await repo.saveView(precise, undefined);
    const stored = await repo.getView(3);

    // Assess
    expect(stored?.load).toBe(0.123457);
    expect(stored?.servers[0]?.kvCacheUsage).toBe(0.987654);
    expect(stored?.servers[0]?.completionRate).toBe(4.56789);
  });
});

describe('DynamoDbFleetRepository.saveView versions', () => {
  it('writes the first view only while none exists, then only over the expected version', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const first = await repo.saveView(view({ version: 1 }), undefined);
    const firstAgain = await repo.saveView(view({ version: 1 }), undefined);
    const stale = await repo.saveView(view({ version: 3 }), 2);
    const next = await repo.saveView(view({ version: 2, mode: 'normal' }), 1);
    const replay = await repo.saveView(view({ version: 2, mode: 'saturated' }), 1);

    // Assess
    expect([first, firstAgain, stale, next, replay]).toEqual([true, false, false, true, false]);
    expect(await repo.getView(3, { consistent: true })).toMatchObject({ version: 2, mode: 'normal' });
  });

  it('lets exactly one of two concurrent writers with the same expected version win', async () => {
    // Prepare
    const { repo } = await freshRepository();
    await repo.saveView(view({ version: 4 }), undefined);

    // Act
    const results = await Promise.all([
      repo.saveView(view({ version: 5, mode: 'normal' }), 4),
      repo.saveView(view({ version: 5, mode: 'saturated' }), 4),
    ]);

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await repo.getView(3, { consistent: true });
    expect(stored?.version).toBe(5);
    expect(stored?.mode).toBe(results[0] ? 'normal' : 'saturated');
  });

  it('lets exactly one of two concurrent first writers win', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const results = await Promise.all([
      repo.saveView(view({ version: 1, mode: 'normal' }), undefined),
      repo.saveView(view({ version: 1, mode: 'saturated' }), undefined),
    ]);

    // Assess
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('rethrows a failure that is not a lost race', async () => {
    // Prepare: a table that does not exist.
    const repo = new DynamoDbFleetRepository(db.doc, 'NoSuchFleetTable');

    // Act
    const act = repo.saveView(view(), undefined);

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('DynamoDbFleetRepository read options', () => {
  it('reads eventually consistent by default and strongly consistent when asked, passing the signal on', async () => {
    // Prepare
    const { repo } = await freshRepository();
    await repo.saveView(view(), undefined);
    const send = vi.spyOn(db.doc, 'send');
    const controller = new AbortController();

    // Act
    await repo.getView(3);
    await repo.getView(3, { consistent: true, signal: controller.signal });
    const sent = [...send.mock.calls];
    send.mockRestore();

    // Assess
    const calls = sent.map(([command, options]) => ({
      consistent: (command.input as { ConsistentRead?: boolean }).ConsistentRead,
      signal: (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal,
    }));
    expect(calls).toEqual([
      { consistent: false, signal: undefined },
      { consistent: true, signal: controller.signal },
    ]);
  });

  it('gives up a read whose signal is aborted', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const act = repo.getView(3, { signal: AbortSignal.abort(new Error('tick deadline')) });

    // Assess
    await expect(act).rejects.toThrow();
  });
});

describe('DynamoDbFleetRepository.getShardTotals', () => {
  it('returns every stored shard of 64 once, leaving the shards without a view out', async () => {
    // Prepare
    const { repo } = await freshRepository();
    const missing = new Set([0, 17, 63]);
    const written: ShardTotals[] = [];
    for (let shard = 0; shard < 64; shard++) {
      if (missing.has(shard)) continue;
      const shardTotals = totals(shard, { used: shard + 0.5, capacity: 100 + shard, updatedAt: at + shard });
      written.push(shardTotals);
      await repo.saveView(view({ shard, totals: shardTotals, updatedAt: at + shard }), undefined);
    }

    // Act
    const read = await repo.getShardTotals(64);

    // Assess
    expect(read).toHaveLength(61);
    expect([...read].sort((a, b) => a.shard - b.shard)).toEqual(written);
  });

  it('returns nothing when no shard has a view yet', async () => {
    // Prepare
    const { repo } = await freshRepository();

    // Act
    const read = await repo.getShardTotals(REGISTRY_BUCKETS);

    // Assess
    expect(read).toEqual([]);
  });

  it('reads only the shards asked for', async () => {
    // Prepare
    const { repo } = await freshRepository();
    for (const shard of [0, 1, 2, 3]) await repo.saveView(view({ shard, totals: totals(shard) }), undefined);

    // Act
    const read = await repo.getShardTotals(2);

    // Assess
    expect(read.map((shard) => shard.shard).sort()).toEqual([0, 1]);
  });

  it('leaves a malformed view out, so it cannot blind every worker to the other shards', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    await repo.saveView(view({ shard: 0, totals: totals(0) }), undefined);
    await db.doc.send(
      new PutCommand({
        TableName: table,
        Item: { pk: viewKey(1), shard: 1, t_used: 'lots', t_capacity: 10, t_safe: 1, updated_at: at },
      }),
    );

    // Act
    const read = await repo.getShardTotals(2);

    // Assess
    expect(read.map((entry) => entry.shard)).toEqual([0]);
  });
});

describe('DynamoDbFleetRepository malformed view items', () => {
  const good = {
    pk: viewKey(5),
    shard: 5,
    mode: 'normal',
    load: 0.5,
    smoothed_load: 0.5,
    free_admit_ratio: 1,
    updated_at: at,
    version: 1,
    t_used: 5,
    t_capacity: 10,
    t_safe: 1,
    servers: 'gpu-1 http://10.0.0.1:8000 10 5 0 - - - h 0',
  };

  it('reads the well-formed reference item (the cases below break one thing each)', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    await db.doc.send(new PutCommand({ TableName: table, Item: good }));

    // Act
    const stored = await repo.getView(5);

    // Assess
    expect(stored).toMatchObject({ shard: 5, mode: 'normal', servers: [{ id: 'gpu-1', running: 5 }] });
  });

  it.each([
    ['an unknown mode', { mode: 'panic' }, 'Malformed fleet view item VIEW#5: mode panic'],
    ['no version', { version: undefined }, 'Malformed fleet view item VIEW#5: version is not a number'],
    ['a text load', { load: 'high' }, 'Malformed fleet view item VIEW#5: load is not a number'],
    [
      'no totals',
      { t_capacity: undefined },
      'Malformed fleet view totals VIEW#5: t_capacity is not a number',
    ],
    [
      'servers as a list',
      { servers: ['gpu-1'] },
      'Malformed fleet view item VIEW#5: servers is not a string',
    ],
    [
      'a server line short of a field',
      { servers: 'gpu-1 http://10.0.0.1:8000 10 5 0 - - - h' },
      'Malformed fleet view server line 1: 9 fields, expected 10',
    ],
    [
      'unknown server flags',
      { servers: `${good.servers}\ngpu-2 http://10.0.0.2:8000 10 5 0 - - - x 0` },
      'Malformed fleet view server line 2: flags x',
    ],
    [
      'a server count that is not a number',
      { servers: 'gpu-1 http://10.0.0.1:8000 10 five 0 - - - h 0' },
      'Malformed fleet view server line 1: running five',
    ],
  ])('rejects an item with %s instead of admitting on garbage', async (_case, change, message) => {
    // Prepare
    const { table, repo } = await freshRepository();
    const item = Object.fromEntries(
      Object.entries({ ...good, ...change }).filter(([, value]) => value !== undefined),
    );
    await db.doc.send(new PutCommand({ TableName: table, Item: item }));

    // Act
    const act = repo.getView(5);

    // Assess
    await expect(act).rejects.toThrow(message);
  });
});

describe('DynamoDbFleetRepository number guard', () => {
  it('has a table that refuses a number below 1e-130, as DynamoDB does (the Number underflow outage)', async () => {
    // Prepare
    const { table } = await freshRepository();

    // Act
    const act = db.client.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: viewKey(0) }, smoothed_load: { N: '1e-140' } },
      }),
    );

    // Assess
    await expect(act).rejects.toThrow(/Number underflow/);
  });

  it('stores a completion rate of 1e-140 as exactly 0, and the write succeeds', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    const idle = view({ servers: [server('gpu-1', { running: 0, waiting: 0, completionRate: 1e-140 })] });

    // Act
    const saved = await repo.saveView(idle, undefined);
    const stored = await repo.getView(3);

    // Assess
    expect(saved).toBe(true);
    expect(stored?.servers[0]?.completionRate).toBe(0);
    expect((await storedItem(table, 3))?.servers).toBe('gpu-1 http://10.0.0.5:8000 10 0 0 0.42 1234 0 h 120');
  });

  it('stores decayed summary numbers (smoothed load, ratio, totals) as exactly 0, and the write succeeds', async () => {
    // Prepare
    const { table, repo } = await freshRepository();
    const decayed = view({
      load: 1e-140,
      smoothedLoad: 1e-140,
      freeAdmitRatio: 5e-324,
      totals: totals(3, { used: -1e-200 }),
    });

    // Act
    const saved = await repo.saveView(decayed, undefined);
    const stored = await repo.getView(3);

    // Assess
    expect(saved).toBe(true);
    expect(await storedItem(table, 3)).toMatchObject({
      load: 0,
      smoothed_load: 0,
      free_admit_ratio: 0,
      t_used: 0,
    });
    expect(stored).toMatchObject({ load: 0, smoothedLoad: 0, freeAdmitRatio: 0, totals: { used: 0 } });
  });

  it.each([
    ['running NaN', { running: Number.NaN }],
    ['waiting Infinity', { waiting: Number.POSITIVE_INFINITY }],
    ['KV use NaN', { kvCacheUsage: Number.NaN }],
    ['capacity Infinity', { capacity: Number.POSITIVE_INFINITY }],
    ['counter -Infinity', { completedTotal: Number.NEGATIVE_INFINITY }],
    ['completion rate NaN', { completionRate: Number.NaN }],
    ['scrape time NaN', { updatedAt: Number.NaN }],
  ])('throws RangeError before any write for a server with %s', async (_case, change) => {
    // Prepare
    const { table, repo } = await freshRepository();
    await repo.saveView(view({ version: 1 }), undefined);
    const broken = view({ version: 2, servers: [server('gpu-1', change)] });
    const send = vi.spyOn(db.doc, 'send');

    // Act
    const outcome = await repo.saveView(broken, 1).then(
      (saved) => saved,
      (error: unknown) => error,
    );
    const sends = send.mock.calls.length;
    send.mockRestore();

    // Assess
    expect(outcome).toBeInstanceOf(RangeError);
    expect(sends).toBe(0);
    expect((await storedItem(table, 3))?.version).toBe(1);
  });

  it.each([
    ['load NaN', { load: Number.NaN }],
    ['load -Infinity', { load: Number.NEGATIVE_INFINITY }],
    ['free admit ratio Infinity', { freeAdmitRatio: Number.POSITIVE_INFINITY }],
    ['shed since NaN', { shedSince: Number.NaN }],
    ['totals used NaN', { totals: totals(3, { used: Number.NaN }) }],
  ])('throws RangeError before any write for a view with %s', async (_case, change) => {
    // Prepare
    const { table, repo } = await freshRepository();

    // Act
    const act = repo.saveView(view(change), undefined);

    // Assess
    await expect(act).rejects.toBeInstanceOf(RangeError);
    expect(await storedItem(table, 3)).toBeUndefined();
  });

  it('throws RangeError for a server id with whitespace (it would break the compact server lines)', async () => {
    // Prepare
    const { table, repo } = await freshRepository();

    // Act
    const act = repo.saveView(view({ servers: [server('gpu 1')] }), undefined);

    // Assess
    await expect(act).rejects.toBeInstanceOf(RangeError);
    expect(await storedItem(table, 3)).toBeUndefined();
  });
});

describe('item size by DynamoDB rules', () => {
  it('counts attribute names plus values: strings in UTF-8 bytes, numbers by significant digits', () => {
    // Act
    const sizes = [
      itemBytes({ pk: { S: 'VIEW#0' } }),
      itemBytes({ n: { N: '123' } }),
      itemBytes({ n: { N: '1750000000000' } }),
      itemBytes({ n: { N: '0.000123456' } }),
      itemBytes({ é: { S: 'ü' } }),
      itemBytes({ b: { BOOL: true }, z: { NULL: true } }),
      itemBytes({ l: { L: [{ N: '1' }, { S: 'ab' }] } }),
    ];

    // Assess
    expect(sizes).toEqual([2 + 6, 1 + 3, 1 + 3, 1 + 4, 2 + 2, 2 + 2, 1 + 3 + (1 + 2) + (1 + 2)]);
  });
});

describe('fleet view item size per key design', () => {
  it('keeps the fullest of 64 shards of 5,000 servers far below 100 KB (≤ 8 KB: 1 RCU eventually consistent)', async () => {
    // Act
    const { saved, servers, bytes, repo, fullest } = await fullestShardSize(5_000, 64);

    // Assess
    expect(saved).toBe(true);
    expect(servers).toBeGreaterThanOrEqual(Math.ceil(5_000 / 64));
    expect(bytes).toBeLessThan(100 * KB);
    expect(bytes).toBeLessThanOrEqual(8 * KB);
    expect((await repo.getView(fullest.shard))?.servers).toHaveLength(servers);
  });

  it('keeps the fullest of 64 shards of 2,300 servers within 4 KB (0.5 RCU eventually consistent)', async () => {
    // Act
    const { saved, servers, bytes } = await fullestShardSize(2_300, 64);

    // Assess
    expect(saved).toBe(true);
    expect(servers).toBeGreaterThanOrEqual(Math.ceil(2_300 / 64));
    expect(bytes).toBeLessThanOrEqual(4 * KB);
  });

  it('puts 2,300 servers in one shard below the 400 KB item limit but above 100 KB: why shards are needed', async () => {
    // Act
    const { saved, servers, bytes } = await fullestShardSize(2_300, 1);

    // Assess
    expect(saved).toBe(true);
    expect(servers).toBe(2_300);
    expect(bytes).toBeLessThan(400 * KB);
    // Over 100 KB: 25 read units per admission read (eventually consistent) and 100+ write units a tick.
    expect(bytes).toBeGreaterThan(100 * KB);
  });
});
