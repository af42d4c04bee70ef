/**
 * The fleet table's view items against dynalite: one VIEW#<shard> item per heartbeat shard, written under
 * optimistic concurrency, read one at a time by the chat function and as totals by every heartbeat worker.
 * Malformed items and the number guard: fleet-view-items.test.ts; sizes: fleet-view-sizing.test.ts.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { viewKey } from '../../../adapters/dynamodb/fleet-items';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import type { ShardTotals } from '../../../domain/fleet';
import { REGISTRY_BUCKETS } from '../../../domain/fleet-shards';
import { at, server, totals, useFleetTables, view } from './fleet-views';

const tables = useFleetTables();
const { freshRepository, storedItem } = tables;

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
    const repo = new DynamoDbFleetRepository(tables.db.doc, 'NoSuchFleetTable');

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
    const send = vi.spyOn(tables.db.doc, 'send');
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
    await tables.db.doc.send(
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
