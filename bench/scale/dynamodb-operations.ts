/**
 * What each DynamoDB operation does to the in-memory tables: key checks, conditions, projections,
 * updates, Query order and pagination, item-size limits and the capacity each consumes. The model
 * (dynamodb-model.ts) decides when (latency), whether (faults, throttling) and who pays.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  type Item,
  itemBytes,
  MAX_ITEM_BYTES,
  readUnits,
  SizeError,
  writeUnits,
} from '../shared/dynamodb-size';
import { applyUpdate, clone, deepFreeze, evaluate, getPath, project } from './dynamodb-evaluate';
import {
  type Condition,
  ExpressionError,
  type Path,
  Placeholders,
  parseCondition,
  parseProjection,
  parseUpdate,
} from './dynamodb-expressions';

export interface TableSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface StoredItem {
  readonly item: Item | undefined;
  readonly bytes: number;
  readonly writtenAt: number;
  /** The version before the last write (an eventually consistent read may still see it). */
  readonly previous: { readonly item: Item | undefined; readonly bytes: number } | undefined;
}

export interface Table {
  readonly spec: TableSpec;
  /** partition key value → sort key value ('' without a sort key) → item. */
  readonly partitions: Map<string, Map<string, StoredItem>>;
}

/** Capacity a request wants from one partition, checked and charged by the model before it applies. */
export interface Charge {
  readonly partition: string;
  readonly kind: 'read' | 'write';
  readonly units: number;
}

/** The context an operation runs in: time, throttling, the replica a lagging read sees. */
export interface OperationContext {
  readonly now: number;
  /** Charges the units to the partition; false when that would pass its per-second limit. */
  charge(charge: Charge): boolean;
  /** Whether an eventually consistent read of an item written at `writtenAt` still sees the old version. */
  seesPrevious(writtenAt: number): boolean;
  /** Called for every item stored, with its size. */
  stored(table: string, key: string, bytes: number): void;
}

export const validation = (message: string) =>
  new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', $metadata: {}, message });

export const throttled = (partition: string) =>
  new ProvisionedThroughputExceededException({
    $metadata: {},
    message: `The level of configured provisioned throughput for the table was exceeded (partition ${partition}).`,
  });

/** Runs `fn`, turning expression and size errors into the ValidationException the service answers. */
export function validating<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof ExpressionError || error instanceof SizeError) throw validation(error.message);
    throw error;
  }
}

export function keyOf(table: Table, key: Readonly<Record<string, unknown>> | undefined) {
  const { partitionKey, sortKey } = table.spec;
  if (!key) throw validation('The provided key element does not match the schema');
  const names = Object.keys(key).filter((name) => key[name] !== undefined);
  const expected = sortKey === undefined ? 1 : 2;
  const pk = key[partitionKey];
  const sk = sortKey === undefined ? '' : key[sortKey];
  if (names.length !== expected || typeof pk !== 'string' || typeof sk !== 'string') {
    throw validation('The provided key element does not match the schema');
  }
  if (pk === '' || (sortKey !== undefined && sk === '')) {
    throw validation(
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value.',
    );
  }
  return { pk, sk, partition: `${table.spec.name}|${pk}` };
}

function current(table: Table, pk: string, sk: string): StoredItem | undefined {
  return table.partitions.get(pk)?.get(sk);
}

function visible(stored: StoredItem | undefined, consistent: boolean, context: OperationContext) {
  if (!stored) return { item: undefined, bytes: 0 };
  if (!consistent && stored.previous && context.seesPrevious(stored.writtenAt)) return stored.previous;
  return { item: stored.item, bytes: stored.bytes };
}

function store(
  table: Table,
  pk: string,
  sk: string,
  item: Item | undefined,
  context: OperationContext,
): number {
  let partition = table.partitions.get(pk);
  if (!partition) {
    partition = new Map();
    table.partitions.set(pk, partition);
  }
  const before = partition.get(sk);
  const frozen = item === undefined ? undefined : deepFreeze(clone(item));
  const bytes = frozen === undefined ? 0 : validating(() => itemBytes(frozen));
  if (bytes > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
  partition.set(sk, {
    item: frozen,
    bytes,
    writtenAt: context.now,
    previous: before ? { item: before.item, bytes: before.bytes } : undefined,
  });
  if (frozen !== undefined) context.stored(table.spec.name, `${pk}/${sk}`, bytes);
  return bytes;
}

interface ExpressionInput {
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

function conditionOf(input: ExpressionInput, placeholders: Placeholders): Condition | undefined {
  return input.ConditionExpression === undefined
    ? undefined
    : validating(() => parseCondition(input.ConditionExpression as string, placeholders));
}

function checkCondition(condition: Condition | undefined, item: Item | undefined, returnOld: boolean): void {
  if (condition === undefined || evaluate(condition, item)) return;
  throw new ConditionalCheckFailedException({
    $metadata: {},
    message: 'The conditional request failed',
    ...(returnOld && item ? { Item: clone(item) as never } : {}),
  });
}

/**
 * What a read returns: the stored item itself, deep-frozen (no copy, for speed). The real client returns
 * fresh objects; code that mutates what it read fails loudly here instead of corrupting the table.
 */
const output = (item: Item | undefined) => item as Record<string, unknown> | undefined;

export interface GetInput {
  readonly Key?: Record<string, unknown>;
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
}

function projectionOf(input: GetInput): Path[] | undefined {
  const placeholders = new Placeholders(input.ExpressionAttributeNames);
  const paths =
    input.ProjectionExpression === undefined
      ? undefined
      : validating(() => parseProjection(input.ProjectionExpression as string, placeholders));
  validating(() => placeholders.checkAllUsed());
  return paths;
}

/** One item read (GetItem, or one key of a BatchGetItem); undefined when its partition is throttled. */
export function readOne(table: Table, input: GetInput, context: OperationContext) {
  const { pk, sk, partition } = keyOf(table, input.Key);
  const paths = projectionOf(input);
  const consistent = input.ConsistentRead === true;
  const seen = visible(current(table, pk, sk), consistent, context);
  // Capacity is charged on the whole item, whatever the projection returns.
  const units = readUnits(seen.bytes, consistent);
  if (!context.charge({ partition, kind: 'read', units })) return undefined;
  const item = seen.item === undefined ? undefined : paths ? project(seen.item, paths) : output(seen.item);
  return { item, units };
}

export interface WriteInput extends ExpressionInput {
  readonly Key?: Record<string, unknown>;
  readonly Item?: Record<string, unknown>;
  readonly UpdateExpression?: string;
  readonly ReturnValues?: string;
  readonly ReturnValuesOnConditionCheckFailure?: string;
}

export function put(table: Table, input: WriteInput, context: OperationContext) {
  const item = input.Item;
  if (!item) throw validation('Item is required');
  const { partitionKey, sortKey } = table.spec;
  const keyInput = { [partitionKey]: item[partitionKey], ...(sortKey ? { [sortKey]: item[sortKey] } : {}) };
  const { pk, sk, partition } = keyOf(table, keyInput);
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const condition = conditionOf(input, placeholders);
  validating(() => placeholders.checkAllUsed());
  const newBytes = validating(() => itemBytes(item));
  if (newBytes > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
  const before = current(table, pk, sk);
  const units = writeUnits(Math.max(newBytes, before?.bytes ?? 0));
  if (!context.charge({ partition, kind: 'write', units })) throw throttled(partition);
  checkCondition(condition, before?.item, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
  store(table, pk, sk, item, context);
  return { units, attributes: input.ReturnValues === 'ALL_OLD' ? output(before?.item) : undefined };
}

export function update(table: Table, input: WriteInput, context: OperationContext) {
  const { pk, sk, partition } = keyOf(table, input.Key);
  if (input.UpdateExpression === undefined) throw validation('UpdateExpression is required');
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const actions = validating(() => parseUpdate(input.UpdateExpression as string, placeholders));
  const condition = conditionOf(input, placeholders);
  validating(() => placeholders.checkAllUsed());
  const keyNames = [table.spec.partitionKey, table.spec.sortKey];
  if (actions.some((action) => keyNames.includes(action.path[0] as string))) {
    throw validation(
      'One or more parameter values were invalid: Cannot update attribute, this attribute is part of the key',
    );
  }
  const before = current(table, pk, sk);
  const after = validating(() => applyUpdate(before?.item ?? (input.Key as Item), actions));
  const newBytes = validating(() => itemBytes(after));
  if (newBytes > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
  const units = writeUnits(Math.max(newBytes, before?.bytes ?? 0));
  if (!context.charge({ partition, kind: 'write', units })) throw throttled(partition);
  checkCondition(condition, before?.item, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
  store(table, pk, sk, after, context);
  const returned =
    input.ReturnValues === 'ALL_NEW' || input.ReturnValues === 'UPDATED_NEW'
      ? output(after)
      : input.ReturnValues === 'ALL_OLD' || input.ReturnValues === 'UPDATED_OLD'
        ? output(before?.item)
        : undefined;
  return { units, attributes: returned };
}

export function remove(table: Table, input: WriteInput, context: OperationContext) {
  const { pk, sk, partition } = keyOf(table, input.Key);
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const condition = conditionOf(input, placeholders);
  validating(() => placeholders.checkAllUsed());
  const before = current(table, pk, sk);
  const units = writeUnits(before?.bytes ?? 0);
  if (!context.charge({ partition, kind: 'write', units })) throw throttled(partition);
  checkCondition(condition, before?.item, input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD');
  if (before?.item !== undefined) store(table, pk, sk, undefined, context);
  return { units, attributes: input.ReturnValues === 'ALL_OLD' ? output(before?.item) : undefined };
}

export interface QueryInput extends GetInput {
  readonly KeyConditionExpression?: string;
  readonly FilterExpression?: string;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
  readonly ScanIndexForward?: boolean;
  readonly Limit?: number;
  readonly ExclusiveStartKey?: Record<string, unknown>;
  readonly Select?: string;
  readonly IndexName?: string;
}

const QUERY_PAGE_BYTES = 1024 * 1024;

/** The partition key value a key condition pins (`pk = :v`, alone or ANDed with a sort-key condition). */
function partitionValue(condition: Condition, partitionKey: string): string | undefined {
  if (condition.kind === 'and') {
    return partitionValue(condition.a, partitionKey) ?? partitionValue(condition.b, partitionKey);
  }
  if (condition.kind !== 'cmp' || condition.op !== '=') return undefined;
  const { a, b } = condition;
  if (a.kind === 'path' && a.path.length === 1 && a.path[0] === partitionKey && b.kind === 'value') {
    return typeof b.value === 'string' ? b.value : undefined;
  }
  return undefined;
}

export function query(table: Table, input: QueryInput, context: OperationContext) {
  if (input.IndexName !== undefined) throw validation('The model has no secondary indexes');
  if (input.KeyConditionExpression === undefined) throw validation('KeyConditionExpression is required');
  const placeholders = new Placeholders(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
  const keyCondition = validating(() => parseCondition(input.KeyConditionExpression as string, placeholders));
  const filter =
    input.FilterExpression === undefined
      ? undefined
      : validating(() => parseCondition(input.FilterExpression as string, placeholders));
  const paths =
    input.ProjectionExpression === undefined
      ? undefined
      : validating(() => parseProjection(input.ProjectionExpression as string, placeholders));
  validating(() => placeholders.checkAllUsed());
  const pk = partitionValue(keyCondition, table.spec.partitionKey);
  if (pk === undefined) throw validation('Query condition missed key schema element');
  if (input.Limit !== undefined && (!Number.isInteger(input.Limit) || input.Limit < 1)) {
    throw validation('Limit must be an integer >= 1');
  }
  const consistent = input.ConsistentRead === true;
  const sortKey = table.spec.sortKey;
  const forward = input.ScanIndexForward !== false;
  const entries = [...(table.partitions.get(pk)?.entries() ?? [])].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  if (!forward) entries.reverse();
  const start = input.ExclusiveStartKey === undefined ? undefined : keyOf(table, input.ExclusiveStartKey).sk;
  const items: Record<string, unknown>[] = [];
  let scanned = 0;
  let bytes = 0;
  let last: Item | undefined;
  let stopped = false;
  for (const [sk, stored] of entries) {
    if (start !== undefined && (forward ? sk <= start : sk >= start)) continue;
    const seen = visible(stored, consistent, context);
    if (seen.item === undefined || !evaluate(keyCondition, seen.item)) continue;
    scanned++;
    bytes += seen.bytes;
    last = seen.item;
    if (filter === undefined || evaluate(filter, seen.item)) {
      items.push(paths ? project(seen.item, paths) : (output(seen.item) as Record<string, unknown>));
    }
    if ((input.Limit !== undefined && scanned >= input.Limit) || bytes >= QUERY_PAGE_BYTES) {
      stopped = true;
      break;
    }
  }
  const units = readUnits(bytes, consistent);
  if (!context.charge({ partition: `${table.spec.name}|${pk}`, kind: 'read', units })) {
    throw throttled(`${table.spec.name}|${pk}`);
  }
  const lastKey =
    stopped && last
      ? {
          [table.spec.partitionKey]: getPath(last, [table.spec.partitionKey]),
          ...(sortKey ? { [sortKey]: getPath(last, [sortKey]) } : {}),
        }
      : undefined;
  return { items: input.Select === 'COUNT' ? [] : items, count: items.length, scanned, units, lastKey };
}
