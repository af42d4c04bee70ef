/**
 * The fleet table's view items as read and written: a malformed item is refused with a message naming
 * what is wrong, and every number written survives DynamoDB's rules (no underflow, no whitespace in ids).
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { viewKey } from '../../../adapters/dynamodb/fleet-items';
import { at, server, totals, useFleetTables, view } from './fleet-views';

const tables = useFleetTables();
const { freshRepository, storedItem } = tables;

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
    await tables.db.doc.send(new PutCommand({ TableName: table, Item: good }));

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
    await tables.db.doc.send(new PutCommand({ TableName: table, Item: item }));

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
    const act = tables.db.client.send(
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
    const send = vi.spyOn(tables.db.doc, 'send');

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
