/**
 * The DynamoDB requests, read and write units and stored bytes of a set of metered calls, priced by
 * DynamoDB's rules (dynamodb-units.ts) under a configuration: the tables' projections and class as
 * given, long texts as measured / compressed / plain, the stop checks as measured, gone, or polled
 * at another interval (computed: one consistent read of the tiny stop item per poll), and the sweeper's
 * crash evidence as measured or as the sparse in-flight index had it (computed: each in_progress turn
 * carries the index key, each quota window none).
 */
import { brotliCompressSync, brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type Item, itemBytes } from '../shared/dynamodb-size';
import type { DynamoDbEffect } from './dynamodb-effects';
import { getReadUnits, queryReadUnits, type StoredBytes, storedBytes, writeCost } from './dynamodb-units';
import { DAYS_PER_MONTH } from './prices';
import type { MeteredCall } from './sdk-meter';
import type { TableSchema } from './table-schema';

/** Stop checks as measured, none, or one poll every `pollMs` over `streamMs` of streaming (computed). */
export type StopReads = 'measured' | 'none' | { readonly pollMs: number; readonly streamMs?: number };
export type TextStorage = 'measured' | 'compressed' | 'plain';

export interface DynamoDbConfig {
  readonly tables: Readonly<Record<string, TableSchema>>;
  readonly stopReads: StopReads;
  readonly text: TextStorage;
  /**
   * 'inflightIndex': as before the quota windows' leases, an in_progress turn carries `inflight` (the key
   * of a sparse index the tables must then define) and a quota window no `leases`/`sweep_at`. Absent: as
   * measured.
   */
  readonly crashEvidence?: 'inflightIndex';
}

/** The in-flight index's key on an in_progress turn (its shard does not change its size much). */
const INFLIGHT_KEY = 'INFLIGHT#0';

/** The item as the configured crash evidence would have it. */
function withCrashEvidence(item: Item, config: DynamoDbConfig): Item {
  if (config.crashEvidence !== 'inflightIndex') return item;
  const sk = item.sk;
  if (typeof sk !== 'string') return item;
  if (sk.startsWith('TURN#') && item.status === 'in_progress') return { ...item, inflight: INFLIGHT_KEY };
  if (!sk.startsWith('QUOTA#')) return item;
  const { leases: _leases, sweep_at: _sweepAt, ...window } = item;
  return window;
}

/** The item as stored under `config`: its texts and its crash evidence. */
const configured = (item: Item, config: DynamoDbConfig): Item =>
  withCrashEvidence(storedAs(item, config.text), config);

export interface Units {
  requests: number;
  rru: number;
  wru: number;
}

export interface Storage {
  /** Bytes kept for good (table + indexes, overhead included), and the part PITR bills (the table's). */
  bytes: number;
  pitrBytes: number;
  /** Bytes × months (≤ 1) of items that expire (TTL) within their first month. */
  transientByteMonths: number;
}

export interface DynamoDbTotals extends Units {
  /** By table, and by `table.index` for index reads and index writes. */
  readonly byTarget: Record<string, Units>;
  /** Requests by operation and item kind, e.g. `GetItem STOP`, `Query byConversation`. */
  readonly byOperation: Record<string, number>;
  /** Requests by command type, table and index, e.g. `Query ChatTable.byConversation`. */
  readonly byCommand: Record<string, number>;
  /** By table: what the calls left stored. */
  readonly storage: Record<string, Storage>;
  /** Largest item seen per item kind, in bytes. */
  readonly largestItems: Record<string, number>;
}

/** Texts longer than this are what compression would store as Binary. */
const COMPRESSIBLE_BYTES = 256;
const compressedLengths = new Map<string, number>();

function compressedLength(text: string): number {
  let length = compressedLengths.get(text);
  if (length === undefined) {
    length = brotliCompressSync(Buffer.from(text)).length;
    compressedLengths.set(text, length);
  }
  return length;
}

function decompressed(bytes: Uint8Array): string | undefined {
  for (const inflate of [brotliDecompressSync, gunzipSync, inflateSync]) {
    try {
      return inflate(bytes).toString('utf8');
    } catch {
      // not this format
    }
  }
  return undefined;
}

/** The item as it would be stored under `text`. */
export function storedAs(item: Item, text: TextStorage): Item {
  if (text === 'measured') return item;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (text === 'compressed' && typeof value === 'string' && Buffer.byteLength(value) > COMPRESSIBLE_BYTES) {
      out[name] = new Uint8Array(compressedLength(value));
    } else if (text === 'plain' && value instanceof Uint8Array) {
      out[name] = decompressed(value) ?? value;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** The kind of an item: its sort key's prefix (`TURN#…` → TURN), else its partition key's. */
export function itemKind(table: TableSchema, key: Item): string {
  for (const name of [table.sortKey, table.partitionKey]) {
    const value = name === undefined ? undefined : key[name];
    if (typeof value === 'string' && value.includes('#')) return value.slice(0, value.indexOf('#'));
  }
  return table.name;
}

const isStopCheck = (tables: DynamoDbConfig['tables'], call: MeteredCall): boolean =>
  call.operation === 'GetItem' &&
  (call.effects ?? []).some((effect) => {
    const table = tables[effect.table];
    return (
      effect.kind === 'read' &&
      table !== undefined &&
      effect.key !== undefined &&
      itemKind(table, effect.key) === 'STOP'
    );
  });

export function emptyTotals(): DynamoDbTotals {
  return {
    requests: 0,
    rru: 0,
    wru: 0,
    byTarget: {},
    byOperation: {},
    byCommand: {},
    storage: {},
    largestItems: {},
  };
}

function add(totals: DynamoDbTotals, target: string, units: Partial<Units>): void {
  const entry = totals.byTarget[target] ?? { requests: 0, rru: 0, wru: 0 };
  totals.byTarget[target] = entry;
  entry.requests += units.requests ?? 0;
  entry.rru += units.rru ?? 0;
  entry.wru += units.wru ?? 0;
  totals.requests += units.requests ?? 0;
  totals.rru += units.rru ?? 0;
  totals.wru += units.wru ?? 0;
}

function seeItem(totals: DynamoDbTotals, table: TableSchema, item: Item | undefined): void {
  if (!item) return;
  const kind = itemKind(table, item);
  totals.largestItems[kind] = Math.max(totals.largestItems[kind] ?? 0, itemBytes(item));
}

function schemaOf(config: DynamoDbConfig, name: string): TableSchema {
  const table = config.tables[name];
  if (!table) throw new Error(`No schema for table ${name}`);
  return table;
}

function priceEffect(totals: DynamoDbTotals, config: DynamoDbConfig, effect: DynamoDbEffect): void {
  const table = schemaOf(config, effect.table);
  const as = (item: Item | undefined) => (item ? configured(item, config) : undefined);
  if (effect.kind === 'read') {
    const items = effect.items.map(as);
    for (const item of items) seeItem(totals, table, item);
    const rru =
      effect.operation === 'get'
        ? getReadUnits(items[0], effect.consistent)
        : queryReadUnits(
            table,
            effect.index,
            items.filter((item): item is Item => item !== undefined),
            effect.consistent,
          );
    add(totals, effect.index ? `${table.name}.${effect.index}` : table.name, { rru });
    return;
  }
  if (effect.outcome === 'failed') return;
  const before = as(effect.before);
  const after = as(effect.after);
  seeItem(totals, table, after);
  const cost = writeCost(table, before, after, effect.outcome);
  add(totals, table.name, { wru: cost.base });
  for (const [index, wru] of Object.entries(cost.indexes)) add(totals, `${table.name}.${index}`, { wru });
}

const storedTotal = (stored: StoredBytes | undefined) =>
  stored ? stored.base + Object.values(stored.indexes).reduce((sum, bytes) => sum + bytes, 0) : 0;

/** Net bytes the calls left stored: each item's last image against its first (writes in order). */
function priceStorage(
  totals: DynamoDbTotals,
  config: DynamoDbConfig,
  calls: readonly MeteredCall[],
  at: number,
) {
  const images = new Map<string, { table: TableSchema; first?: Item; last?: Item }>();
  for (const call of calls) {
    for (const effect of call.effects ?? []) {
      if (effect.kind !== 'write' || effect.outcome !== 'applied') continue;
      const table = schemaOf(config, effect.table);
      const id = `${table.name}/${JSON.stringify(effect.key)}`;
      const known = images.get(id);
      const last = effect.after ? configured(effect.after, config) : undefined;
      if (known) known.last = last;
      else {
        const first = effect.before ? configured(effect.before, config) : undefined;
        images.set(id, { table, ...(first ? { first } : {}), ...(last ? { last } : {}) });
      }
    }
  }
  for (const { table, first, last } of images.values()) {
    const before = first ? storedBytes(table, first) : undefined;
    const after = last ? storedBytes(table, last) : undefined;
    const storage = totals.storage[table.name] ?? { bytes: 0, pitrBytes: 0, transientByteMonths: 0 };
    totals.storage[table.name] = storage;
    const expires = table.timeToLiveAttribute && last ? last[table.timeToLiveAttribute] : undefined;
    if (typeof expires === 'number') {
      const months = Math.min(1, Math.max(0, expires - at / 1000) / (86_400 * DAYS_PER_MONTH));
      storage.transientByteMonths += storedTotal(after) * months;
      continue;
    }
    storage.bytes += storedTotal(after) - storedTotal(before);
    if (table.pointInTimeRecovery) storage.pitrBytes += (after?.base ?? 0) - (before?.base ?? 0);
  }
}

/** Every DynamoDB call among `calls`, priced under `config`; `at` is when they ran (epoch ms, for TTLs). */
export function dynamodbTotals(
  calls: readonly MeteredCall[],
  config: DynamoDbConfig,
  at: number,
): DynamoDbTotals {
  const totals = emptyTotals();
  const dynamodb = calls.filter((call) => call.service === 'dynamodb');
  const stopChecks = dynamodb.filter((call) => isStopCheck(config.tables, call));
  for (const call of dynamodb) {
    if (config.stopReads !== 'measured' && stopChecks.includes(call)) continue;
    if (!call.effects) throw new Error(`${call.operation} on ${call.resource} was not inspected`);
    const table = call.resource ? config.tables[call.resource] : undefined;
    const key = call.effects.find((effect) => effect.kind === 'write' || effect.key)?.key;
    const label = call.index ?? (table && key ? itemKind(table, key) : (call.resource ?? ''));
    totals.byOperation[`${call.operation} ${label}`] =
      (totals.byOperation[`${call.operation} ${label}`] ?? 0) + 1;
    const command = `${call.operation} ${call.resource ?? '?'}${call.index ? `.${call.index}` : ''}`;
    totals.byCommand[command] = (totals.byCommand[command] ?? 0) + 1;
    add(totals, call.resource ?? 'unknown', { requests: 1 });
    for (const effect of call.effects) priceEffect(totals, config, effect);
  }
  if (typeof config.stopReads === 'object') {
    // Computed: the poller's consistent GetItem of the tiny stop item (< 4 KB: 1 RRU), once per interval.
    const { pollMs, streamMs } = config.stopReads;
    if (streamMs === undefined) throw new Error('Computed stop checks need the stream time');
    const polls = Math.floor(streamMs / pollMs);
    const table = stopChecks[0]?.resource ?? Object.keys(config.tables)[0] ?? 'unknown';
    add(totals, table, { requests: polls, rru: polls });
    totals.byOperation['GetItem STOP (computed)'] = polls;
    totals.byCommand[`GetItem ${table} (computed)`] = polls;
  }
  priceStorage(totals, config, dynamodb, at);
  return totals;
}

export const stopChecksIn = (calls: readonly MeteredCall[], tables: DynamoDbConfig['tables']): number =>
  calls.filter((call) => call.service === 'dynamodb' && isStopCheck(tables, call)).length;

/** Totals scaled by `factor` (per second, per turn, per day…). */
export function scaleTotals(totals: DynamoDbTotals, factor: number): DynamoDbTotals {
  const scale = (units: Units): Units => ({
    requests: units.requests * factor,
    rru: units.rru * factor,
    wru: units.wru * factor,
  });
  return {
    ...scale(totals),
    byTarget: Object.fromEntries(Object.entries(totals.byTarget).map(([key, units]) => [key, scale(units)])),
    byOperation: Object.fromEntries(Object.entries(totals.byOperation).map(([key, n]) => [key, n * factor])),
    byCommand: Object.fromEntries(Object.entries(totals.byCommand).map(([key, n]) => [key, n * factor])),
    storage: Object.fromEntries(
      Object.entries(totals.storage).map(([key, storage]) => [
        key,
        {
          bytes: storage.bytes * factor,
          pitrBytes: storage.pitrBytes * factor,
          transientByteMonths: storage.transientByteMonths * factor,
        },
      ]),
    ),
    largestItems: totals.largestItems,
  };
}
