import { describe, expect, it } from 'vitest';
import {
  getReadUnits,
  queryReadUnits,
  storedBytes,
  totalWriteUnits,
  writeCost,
} from '../../../bench/cost/dynamodb-units';
import type { Projection, TableSchema } from '../../../bench/cost/table-schema';

const table = (leases: Projection): TableSchema => ({
  name: 'ChatTable',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: 'byConversation', partitionKey: 'conv', sortKey: 'sk', projection: { type: 'ALL' } },
    { name: 'byLeases', partitionKey: 'leases', sortKey: 'sweep_at', projection: leases },
  ],
  tableClass: 'STANDARD',
  pointInTimeRecovery: true,
});

const text = (bytes: number) => 'x'.repeat(bytes);
const started = { pk: 'u1', sk: 'TURN#1', conv: 'u1#c1', status: 'in_progress', prompt: text(1500) };
const completed = { ...started, status: 'completed', answer: text(2500) };
/** A quota window as its first grant writes it: in the sparse byLeases index. */
const window = {
  pk: 'u1',
  sk: 'QUOTA#0',
  leases: 'LEASES#3',
  sweep_at: 11_100_000,
  prompts: 1,
  streams: 1,
  s_01J0000000AAAAAAAAAAAAAAAA: 300_000,
  notes: text(1500),
};
const { leases: _leases, sweep_at: _sweepAt, ...unindexedWindow } = window;

describe('writeCost', () => {
  it('charges an item entering an index the entry, and leaving a sparse index a delete', () => {
    // Act
    const start = writeCost(table({ type: 'ALL' }), undefined, started, 'applied');
    const finish = writeCost(table({ type: 'ALL' }), started, completed, 'applied');
    const enter = writeCost(table({ type: 'ALL' }), unindexedWindow, window, 'applied');
    const leave = writeCost(table({ type: 'ALL' }), window, unindexedWindow, 'applied');

    // Assess: the start is a 2 KB put into the table and byConversation, not byLeases (no key).
    expect(start).toEqual({ base: 2, indexes: { byConversation: 2 } });
    // The finish grows the item to 4 KB (table and byConversation).
    expect(finish).toEqual({ base: 4, indexes: { byConversation: 4 } });
    expect(enter).toEqual({ base: 2, indexes: { byLeases: 2 } });
    expect(leave).toEqual({ base: 2, indexes: { byLeases: 2 } });
  });

  it('writes a KEYS_ONLY index only when its keys are set, changed or removed: a grant in a known window costs none', () => {
    // Prepare: a later grant and a release change the window but not its byLeases key.
    const keysOnly = table({ type: 'KEYS_ONLY' });
    const granted = { ...window, prompts: 2, streams: 2, s_01J0000000BBBBBBBBBBBBBBBB: 360_000 };
    const { s_01J0000000AAAAAAAAAAAAAAAA: _released, ...released } = { ...granted, streams: 1 };

    // Act / Assess
    expect(writeCost(keysOnly, undefined, window, 'applied').indexes.byLeases).toBe(1);
    expect(writeCost(keysOnly, window, granted, 'applied').indexes.byLeases).toBeUndefined();
    expect(writeCost(keysOnly, granted, released, 'applied').indexes.byLeases).toBeUndefined();
    expect(writeCost(keysOnly, window, unindexedWindow, 'applied').indexes.byLeases).toBe(1);
  });

  it('charges a delete and a put when an index key changes', () => {
    // Act
    const moved = writeCost(table({ type: 'KEYS_ONLY' }), window, { ...window, sweep_at: 1 }, 'applied');

    // Assess
    expect(moved.indexes.byLeases).toBe(2);
  });

  it('charges a failed condition the existing item and writes no index', () => {
    // Act
    const refused = writeCost(table({ type: 'ALL' }), completed, completed, 'condition_failed');
    const refusedMissing = writeCost(table({ type: 'ALL' }), undefined, undefined, 'condition_failed');

    // Assess
    expect(refused).toEqual({ base: 4, indexes: {} });
    expect(totalWriteUnits(refusedMissing)).toBe(1);
  });
});

describe('reads', () => {
  it('rounds a GetItem per item and halves it when eventually consistent; a missing item costs one unit', () => {
    // Prepare: 4,048 bytes fit one 4 KB unit; 4,548 take two.
    const longer = { ...completed, answer: text(3000) };

    // Act / Assess
    expect(getReadUnits(completed, true)).toBe(1);
    expect(getReadUnits(longer, true)).toBe(2);
    expect(getReadUnits(longer, false)).toBe(1);
    expect(getReadUnits(undefined, true)).toBe(1);
  });

  it('rounds a Query once over every item it read, sized as the index stores them', () => {
    // Prepare: three 1.5 KB items, 4.5 KB together.
    const items = [1, 2, 3].map((n) => ({ ...window, sk: `QUOTA#${n}` }));

    // Act / Assess
    expect(queryReadUnits(table({ type: 'ALL' }), 'byLeases', items, false)).toBe(1);
    expect(queryReadUnits(table({ type: 'ALL' }), undefined, items, true)).toBe(2);
    expect(queryReadUnits(table({ type: 'KEYS_ONLY' }), 'byLeases', items, false)).toBe(0.5);
  });
});

describe('storedBytes', () => {
  it('counts the item and each index entry it has, with 100 bytes of overhead each', () => {
    // Act
    const stored = storedBytes(table({ type: 'ALL' }), { pk: 'u', sk: 'TURN#1', conv: 'u#c' });

    // Assess: pk(2+1) + sk(2+6) + conv(4+3) = 18 bytes, in the table and in byConversation.
    expect(stored).toEqual({ base: 118, indexes: { byConversation: 118 } });
  });
});
