import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketKey } from '../../../adapters/dynamodb/registry-items';
import {
  DynamoDbServerRegistry,
  type MalformedRegistryItem,
  type ServerRegistryOptions,
} from '../../../adapters/dynamodb/server-registry';
import { bucketOf, REGISTRY_BUCKETS, shardOf } from '../../../domain/fleet-shards';
import type { RegisteredServer } from '../../../domain/ports';
import { serverRegistryTable } from '../../../lib/resources';
import { ensureTables } from '../../../local/emulators/dynamodb';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let tableCount = 0;
let now = 1_750_000_000_000;
const clock = { now: () => now };

beforeAll(async () => {
  db = await startTestDynamoDb({ definitions: [] });
});

afterAll(async () => {
  await db?.close();
});

/** Each test gets its own empty registry table, shaped by lib/resources.ts. */
async function freshTable(): Promise<string> {
  tableCount++;
  const id = `ServerRegistry${tableCount}`;
  await ensureTables(db.client, [{ ...serverRegistryTable, id }]);
  return id;
}

async function freshRegistry(
  options: Omit<ServerRegistryOptions, 'clock'> = {},
): Promise<{ table: string; registry: DynamoDbServerRegistry }> {
  const table = await freshTable();
  return { table, registry: new DynamoDbServerRegistry(db.doc, table, { clock, ...options }) };
}

function server(id: string, overrides: Partial<RegisteredServer> = {}): RegisteredServer {
  return { id, baseUrl: `http://${id}.internal:8000`, capacity: 16, status: 'active', ...overrides };
}

/** `count` ids that all hash to `bucket`. */
function idsInBucket(bucket: number, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (bucketOf(`node-${i}`) === bucket) ids.push(`node-${i}`);
  return ids;
}

describe('DynamoDbServerRegistry', () => {
  it('puts servers and lists them all, sorted by id, with what was put', async () => {
    // Prepare
    const { table, registry } = await freshRegistry();

    // Act
    await registry.put(server('gpu-2', { capacity: 8 }));
    await registry.put(server('gpu-1', { baseUrl: 'https://gpu-1.example.com/llm/', status: 'draining' }));
    const all = await registry.listAll();
    const stored = await db.doc.send(
      new GetCommand({ TableName: table, Key: { bucket: bucketKey(bucketOf('gpu-1')), id: 'gpu-1' } }),
    );

    // Assess
    expect(all).toEqual([
      { id: 'gpu-1', baseUrl: 'https://gpu-1.example.com/llm', capacity: 16, status: 'draining' },
      { id: 'gpu-2', baseUrl: 'http://gpu-2.internal:8000', capacity: 8, status: 'active' },
    ]);
    expect(stored.Item).toEqual({
      bucket: `BUCKET#${bucketOf('gpu-1')}`,
      id: 'gpu-1',
      base_url: 'https://gpu-1.example.com/llm',
      capacity: 16,
      status: 'draining',
      updated_at: now,
    });
  });

  it('replaces a server put again under the same id (new URL, capacity and status)', async () => {
    // Prepare
    const { registry } = await freshRegistry();
    await registry.put(server('gpu-1', { status: 'draining' }));

    // Act
    await registry.put(server('gpu-1', { baseUrl: 'http://10.0.0.99:9000', capacity: 4 }));

    // Assess
    expect(await registry.listAll()).toEqual([
      { id: 'gpu-1', baseUrl: 'http://10.0.0.99:9000', capacity: 4, status: 'active' },
    ]);
  });

  it.each([1, 2, 64])(
    'lists every server in exactly one of %i shards, the one shardOf names',
    async (shards) => {
      // Prepare
      const { registry } = await freshRegistry();
      const ids = Array.from({ length: 150 }, (_, i) => `gpu-${i + 1}`);
      await Promise.all(ids.map((id) => registry.put(server(id))));

      // Act
      const perShard = await Promise.all(
        Array.from({ length: shards }, (_, shard) => registry.listShard(shard, shards)),
      );

      // Assess
      const listed = perShard.flatMap((servers) => servers.map((s) => s.id));
      expect(listed.sort()).toEqual([...ids].sort());
      expect(new Set(listed).size).toBe(ids.length);
      perShard.forEach((servers, shard) => {
        for (const s of servers) expect(shardOf(s.id, shards), s.id).toBe(shard);
      });
      if (shards > 1) expect(perShard.filter((servers) => servers.length > 0).length).toBeGreaterThan(1);
    },
  );

  it('refuses a shard count that does not divide the buckets, and a shard out of range', async () => {
    // Prepare
    const { registry } = await freshRegistry();

    // Act / Assess
    await expect(registry.listShard(0, 3)).rejects.toThrow(/must divide 64/);
    await expect(registry.listShard(2, 2)).rejects.toThrow(/\[0, 2\)/);
  });

  it('sets a status (true) and says false for a server it does not hold', async () => {
    // Prepare
    const { registry } = await freshRegistry();
    await registry.put(server('gpu-1'));
    now += 1000;

    // Act
    const drained = await registry.setStatus('gpu-1', 'draining');
    const afterDrain = await registry.listAll();
    const undrained = await registry.setStatus('gpu-1', 'active');
    const unknown = await registry.setStatus('gpu-404', 'draining');
    const malformedId = await registry.setStatus('not an id', 'draining');

    // Assess
    expect([drained, undrained, unknown, malformedId]).toEqual([true, true, false, false]);
    expect(afterDrain[0]?.status).toBe('draining');
    expect(await registry.listAll()).toEqual([server('gpu-1')]);
  });

  it('removes a server (true), then says false, and removing an unknown one creates nothing', async () => {
    // Prepare
    const { registry } = await freshRegistry();
    await registry.put(server('gpu-1'));
    await registry.put(server('gpu-2'));

    // Act
    const first = await registry.remove('gpu-1');
    const second = await registry.remove('gpu-1');
    const unknown = await registry.remove('gpu-404');

    // Assess
    expect([first, second, unknown]).toEqual([true, false, false]);
    expect((await registry.listAll()).map((s) => s.id)).toEqual(['gpu-2']);
  });

  it('refuses to put a server that breaks a registration rule, writing nothing', async () => {
    // Prepare
    const { registry } = await freshRegistry();

    // Act / Assess
    await expect(registry.put(server('gpu-1', { baseUrl: 'ftp://host' }))).rejects.toThrow(/http\(s\)/);
    await expect(registry.put(server('gpu-1', { capacity: 0 }))).rejects.toThrow(/capacity/);
    await expect(registry.put(server('gpu 1'))).rejects.toThrow(/the id may hold only/);
    await expect(
      registry.put(server('gpu-1', { status: 'gone' as RegisteredServer['status'] })),
    ).rejects.toThrow(/unknown status/);
    expect(await registry.listAll()).toEqual([]);
  });

  it('skips malformed items, reporting each, and still lists the valid ones of the same bucket', async () => {
    // Prepare
    const malformed: MalformedRegistryItem[] = [];
    const { table, registry } = await freshRegistry({ onMalformedItem: (item) => malformed.push(item) });
    const [good = '', ...bad] = idsInBucket(5, 8);
    await registry.put(server(good));
    const rawItems: Record<string, unknown>[] = [
      { id: bad[0], capacity: 4, status: 'active' },
      { id: bad[1], base_url: 'not a url', capacity: 4, status: 'active' },
      { id: bad[2], base_url: 'http://h:1', capacity: '4', status: 'active' },
      { id: bad[3], base_url: 'http://h:2', capacity: 0, status: 'active' },
      { id: bad[4], base_url: 'http://h:3', capacity: 2.5, status: 'active' },
      { id: bad[5], base_url: 'http://h:4', capacity: 4, status: 'gone' },
      { id: bad[6], base_url: 'http://h:5', capacity: 4 },
    ];
    for (const item of rawItems) {
      await db.doc.send(new PutCommand({ TableName: table, Item: { bucket: bucketKey(5), ...item } }));
    }
    // An id filed under a bucket it does not hash to (would be scraped by the wrong shard).
    const misfiled = idsInBucket(6, 1)[0] ?? '';
    await db.doc.send(
      new PutCommand({
        TableName: table,
        Item: { bucket: bucketKey(5), id: misfiled, base_url: 'http://h:6', capacity: 4, status: 'active' },
      }),
    );

    // Act
    const all = await registry.listAll();

    // Assess
    expect(all).toEqual([server(good)]);
    expect(malformed.map((item) => item.id).sort()).toEqual([...bad.slice(0, 7), misfiled].sort());
    expect(malformed.every((item) => item.bucket === 'BUCKET#5')).toBe(true);
    expect(malformed.map((item) => item.reason).sort()).toEqual(
      [
        'no string base_url',
        'the URL does not parse',
        'no numeric capacity',
        'the capacity must be an integer >= 1 and <= 10000',
        'the capacity must be an integer >= 1 and <= 10000',
        'status is not active or draining',
        'status is not active or draining',
        `the id belongs in BUCKET#6`,
      ].sort(),
    );
  });

  it('follows pages (LastEvaluatedKey) when a bucket holds more items than one page', async () => {
    // Prepare
    const queries: number[] = [];
    const counting = {
      send: (command: { input: { ExclusiveStartKey?: unknown } }, options?: unknown) => {
        queries.push(command.input.ExclusiveStartKey === undefined ? 0 : 1);
        return (db.doc.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      },
    } as unknown as DynamoDBDocumentClient;
    const table = await freshTable();
    const writer = new DynamoDbServerRegistry(db.doc, table, { clock });
    const registry = new DynamoDbServerRegistry(counting, table, { clock, pageSize: 2 });
    const ids = idsInBucket(9, 7);
    await Promise.all(ids.map((id) => writer.put(server(id))));

    // Act
    const listed = await registry.listShard(9, REGISTRY_BUCKETS);

    // Assess
    expect(listed.map((s) => s.id)).toEqual([...ids].sort());
    // 7 items, 2 a page: 4 pages, the last one (or an empty fifth) ends the loop.
    expect(queries.filter((continued) => continued === 1).length).toBeGreaterThanOrEqual(3);
  });

  it('rejects a listing whose signal is aborted', async () => {
    // Prepare
    const { registry } = await freshRegistry();
    const controller = new AbortController();
    controller.abort();

    // Act / Assess
    await expect(registry.listShard(0, 1, { signal: controller.signal })).rejects.toThrow();
  });
});
