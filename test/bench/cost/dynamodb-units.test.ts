import { describe, expect, it } from 'vitest';
import {
  getReadUnits,
  queryReadUnits,
  storedBytes,
  totalWriteUnits,
  writeCost,
} from '../../../bench/cost/dynamodb-units';
import type { Projection, TableSchema } from '../../../bench/cost/table-schema';

const table = (inflight: Projection): TableSchema => ({
  name: 'ChatTable',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    { name: 'byConversation', partitionKey: 'conv', sortKey: 'sk', projection: { type: 'ALL' } },
    { name: 'byInflight', partitionKey: 'inflight', sortKey: 'sk', projection: inflight },
  ],
  tableClass: 'STANDARD',
  pointInTimeRecovery: true,
});

const text = (bytes: number) => 'x'.repeat(bytes);
const started = {
  pk: 'u1',
  sk: 'TURN#1',
  conv: 'u1#c1',
  inflight: 'INFLIGHT#3',
  status: 'in_progress',
  prompt: text(1500),
};
const { inflight: _inflight, ...withoutInflight } = started;
const completed = { ...withoutInflight, status: 'completed', answer: text(2500) };

describe('writeCost', () => {
  it('charges an item entering an index the entry, and leaving a sparse index a delete', () => {
    // Act
    const start = writeCost(table({ type: 'ALL' }), undefined, started, 'applied');
    const finish = writeCost(table({ type: 'ALL' }), started, completed, 'applied');

    // Assess: the start is a 2 KB put into the table and both indexes.
    expect(start).toEqual({ base: 2, indexes: { byConversation: 2, byInflight: 2 } });
    // The finish grows the item to 4 KB (table and byConversation) and deletes the 2 KB in-flight entry.
    expect(finish).toEqual({ base: 4, indexes: { byConversation: 4, byInflight: 2 } });
  });

  it('writes a KEYS_ONLY index only for its keys: 1 unit in, 1 out, nothing for other changes', () => {
    // Prepare
    const keysOnly = table({ type: 'KEYS_ONLY' });
    const touched = { ...started, status: 'in_progress', prompt: text(1600) };

    // Act / Assess
    expect(writeCost(keysOnly, undefined, started, 'applied').indexes.byInflight).toBe(1);
    expect(writeCost(keysOnly, started, touched, 'applied').indexes.byInflight).toBeUndefined();
    expect(writeCost(keysOnly, started, completed, 'applied').indexes.byInflight).toBe(1);
  });

  it('charges a delete and a put when an index key changes', () => {
    // Act
    const moved = writeCost(
      table({ type: 'KEYS_ONLY' }),
      started,
      { ...started, inflight: 'INFLIGHT#4' },
      'applied',
    );

    // Assess
    expect(moved.indexes.byInflight).toBe(2);
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
    const items = [1, 2, 3].map((n) => ({ ...started, sk: `TURN#${n}` }));

    // Act / Assess
    expect(queryReadUnits(table({ type: 'ALL' }), 'byInflight', items, false)).toBe(1);
    expect(queryReadUnits(table({ type: 'ALL' }), undefined, items, true)).toBe(2);
    expect(queryReadUnits(table({ type: 'KEYS_ONLY' }), 'byInflight', items, false)).toBe(0.5);
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
