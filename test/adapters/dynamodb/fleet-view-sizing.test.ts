/**
 * The fleet view item's size by DynamoDB's rules (attribute names plus values), since a view's size is the
 * price of every admission read and of every heartbeat write.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { FleetState, ServerLoad } from '../../../domain/fleet';
import { shardOf } from '../../../domain/fleet-shards';
import { at, totals, useFleetTables, view } from './fleet-views';

const KB = 1024;

const tables = useFleetTables();

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
  const { table, repo } = await tables.freshRepository();
  const views = Array.from({ length: shards }, (_, shard) => realisticView(fleet, shards, shard));
  const fullest = views.reduce((most, candidate) =>
    candidate.servers.length > most.servers.length ? candidate : most,
  );
  const saved = await repo.saveView(fullest, undefined);
  const item = await tables.rawItem(table, fullest.shard);
  if (!item) throw new Error('the view was not stored');
  return { saved, servers: fullest.servers.length, bytes: itemBytes(item), repo, fullest };
}

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
