/**
 * Read and write request units of DynamoDB calls, and the bytes an item keeps stored, by the service's
 * rules (developer guide: "Item sizes and formats", "Read/write capacity mode", "Global secondary
 * indexes: provisioned throughput considerations" and "storage considerations"):
 * - GetItem: the whole item's size (a projection does not shrink it), 4 KB units, ½ when eventually
 *   consistent; a missing item still costs one unit. BatchGetItem: the same per item.
 * - Query/Scan: the sizes of every item read (an index read sees the index entries) summed, then rounded
 *   up to 4 KB once; at least one unit.
 * - Put/Update/Delete: the larger of the item before and after, 1 KB units; a failed condition still
 *   costs the existing item's size (at least one unit) and writes no index.
 * - Each global secondary index: nothing when the item is in it neither before nor after; a put when it
 *   enters (its entry's size), a delete when it leaves (a sparse index), a delete and a put when the
 *   index key changes, an update when a projected attribute changes, nothing otherwise. A KEYS_ONLY
 *   index is thus written only when its keys change.
 * - Storage: the item plus 100 bytes, and per index it is in, its entry plus 100 bytes.
 * Item sizes: bench/shared/dynamodb-size.ts.
 */
import { type Item, itemBytes, readUnits, writeUnits } from '../shared/dynamodb-size';
import type { IndexSchema, TableSchema } from './table-schema';

export const STORAGE_OVERHEAD_BYTES = 100;

/** True when the item carries every key attribute of the index (sparse indexes hold only those). */
export function isInIndex(index: IndexSchema, item: Item): boolean {
  return (
    item[index.partitionKey] !== undefined &&
    (index.sortKey === undefined || item[index.sortKey] !== undefined)
  );
}

function keyAttributes(table: TableSchema, index: IndexSchema): string[] {
  return [table.partitionKey, table.sortKey, index.partitionKey, index.sortKey].filter(
    (name): name is string => name !== undefined,
  );
}

/** The attributes of `item` an index stores, by its projection. */
export function indexEntry(table: TableSchema, index: IndexSchema, item: Item): Item {
  if (index.projection.type === 'ALL') return item;
  const names = keyAttributes(table, index);
  if (index.projection.type === 'INCLUDE') names.push(...index.projection.nonKeyAttributes);
  const entry: Record<string, unknown> = {};
  for (const name of names) if (item[name] !== undefined) entry[name] = item[name];
  return entry;
}

/** A canonical text of a value, so that two items compare equal exactly when DynamoDB would see no change. */
function canonical(value: unknown): string {
  if (value instanceof Uint8Array) return `B:${Buffer.from(value).toString('base64')}`;
  if (value instanceof Set) return `SET:[${[...value].map(canonical).sort().join(',')}]`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, element]) => element !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, element]) => `${JSON.stringify(name)}:${canonical(element)}`).join(',')}}`;
  }
  return `${typeof value}:${String(value)}`;
}

export const sameItem = (a: Item, b: Item): boolean => canonical(a) === canonical(b);

function indexWriteUnits(table: TableSchema, index: IndexSchema, before?: Item, after?: Item): number {
  const old = before && isInIndex(index, before) ? indexEntry(table, index, before) : undefined;
  const next = after && isInIndex(index, after) ? indexEntry(table, index, after) : undefined;
  if (!old && !next) return 0;
  if (!old && next) return writeUnits(itemBytes(next));
  if (old && !next) return writeUnits(itemBytes(old));
  if (!old || !next) return 0;
  const keyChanged = [index.partitionKey, index.sortKey].some(
    (name) => name !== undefined && canonical(old[name]) !== canonical(next[name]),
  );
  if (keyChanged) return writeUnits(itemBytes(old)) + writeUnits(itemBytes(next));
  if (sameItem(old, next)) return 0;
  return writeUnits(Math.max(itemBytes(old), itemBytes(next)));
}

export interface WriteCost {
  readonly base: number;
  /** Units per index written (absent: not written). */
  readonly indexes: Readonly<Record<string, number>>;
}

export type WriteOutcome = 'applied' | 'condition_failed';

/** The write units of one single-item write, from the item before and after it (undefined: absent). */
export function writeCost(
  table: TableSchema,
  before: Item | undefined,
  after: Item | undefined,
  outcome: WriteOutcome,
): WriteCost {
  const beforeBytes = before ? itemBytes(before) : 0;
  if (outcome === 'condition_failed') return { base: writeUnits(beforeBytes), indexes: {} };
  const indexes: Record<string, number> = {};
  for (const index of table.indexes) {
    const units = indexWriteUnits(table, index, before, after);
    if (units > 0) indexes[index.name] = units;
  }
  return { base: writeUnits(Math.max(beforeBytes, after ? itemBytes(after) : 0)), indexes };
}

export const totalWriteUnits = (cost: WriteCost): number =>
  cost.base + Object.values(cost.indexes).reduce((sum, units) => sum + units, 0);

/** GetItem (and each item of a BatchGetItem). */
export function getReadUnits(item: Item | undefined, consistent: boolean): number {
  return readUnits(item ? itemBytes(item) : 0, consistent);
}

/** Query or Scan of a table or one of its indexes: `items` are every item read (before any filter). */
export function queryReadUnits(
  table: TableSchema,
  indexName: string | undefined,
  items: readonly Item[],
  consistent: boolean,
): number {
  const index = indexName === undefined ? undefined : findIndex(table, indexName);
  const bytes = items.reduce(
    (sum, item) => sum + itemBytes(index ? indexEntry(table, index, item) : item),
    0,
  );
  return readUnits(bytes, consistent);
}

export function findIndex(table: TableSchema, indexName: string): IndexSchema {
  const index = table.indexes.find((candidate) => candidate.name === indexName);
  if (!index) throw new Error(`Table ${table.name} has no index ${indexName}`);
  return index;
}

export interface StoredBytes {
  readonly base: number;
  readonly indexes: Readonly<Record<string, number>>;
}

/** What an item occupies in the table and in each index it is in, overhead included. */
export function storedBytes(table: TableSchema, item: Item): StoredBytes {
  const indexes: Record<string, number> = {};
  for (const index of table.indexes) {
    if (isInIndex(index, item)) {
      indexes[index.name] = itemBytes(indexEntry(table, index, item)) + STORAGE_OVERHEAD_BYTES;
    }
  }
  return { base: itemBytes(item) + STORAGE_OVERHEAD_BYTES, indexes };
}

export const totalStoredBytes = (stored: StoredBytes): number =>
  stored.base + Object.values(stored.indexes).reduce((sum, bytes) => sum + bytes, 0);
