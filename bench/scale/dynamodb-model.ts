/**
 * An in-memory DynamoDB for the simulation, driven by virtual time. It takes the real lib-dynamodb command
 * objects (`command.input`) and is handed to the real adapters as their DynamoDBDocumentClient.
 *
 * Partitions: every partition-key value is its own partition, with 3,000 RCU/s and 1,000 WCU/s per
 * virtual second; past that a request fails with ProvisionedThroughputExceededException (BatchGetItem
 * returns the keys as UnprocessedKeys). That is the best case of adaptive capacity, which splits hot key
 * ranges onto their own partitions ("split for heat") — but never below one item, so one hot item (or one
 * hot partition-key value here) is the real ceiling, as it is on AWS.
 * Latency: reads 3–6 ms, writes 5–10 ms (uniform, seeded); each request takes effect when it completes.
 * Eventually consistent reads may see the version before a write made in the last `replicaLagMs`.
 * Faults: a window in which one command on one table fails (InternalServerError) or hangs until the
 * caller's abort signal fires.
 */
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type Charge,
  type GetInput,
  keyOf,
  type OperationContext,
  put,
  type QueryInput,
  query,
  readOne,
  remove,
  type Table,
  type TableSpec,
  throttled,
  update,
  validation,
  type WriteInput,
} from './dynamodb-operations';
import type { Random } from './random';
import type { ScheduledEvent, VirtualTime } from './virtual-time';

export type { TableSpec } from './dynamodb-operations';

export type CommandName =
  | 'GetCommand'
  | 'PutCommand'
  | 'BatchGetCommand'
  | 'QueryCommand'
  | 'UpdateCommand'
  | 'DeleteCommand';

export interface Fault {
  readonly table: string;
  readonly command: CommandName;
  /** Virtual epoch ms, [from, to). */
  readonly from: number;
  readonly to: number;
  /** throw: InternalServerError after the usual latency; hang: never answers, only an abort ends it. */
  readonly mode: 'throw' | 'hang';
}

export interface DynamoDbModelOptions {
  readonly time: VirtualTime;
  readonly random: Random;
  readonly tables: readonly TableSpec[];
  readonly readLatencyMs?: readonly [number, number];
  readonly writeLatencyMs?: readonly [number, number];
  readonly partitionReadUnitsPerSecond?: number;
  readonly partitionWriteUnitsPerSecond?: number;
  readonly replicaLagMs?: number;
}

export interface OperationTotals {
  count: number;
  readUnits: number;
  writeUnits: number;
  errors: Record<string, number>;
}

export interface PartitionPeak {
  readonly partition: string;
  readonly units: number;
  /** Virtual second (since the epoch of virtual time) in which the peak happened. */
  readonly second: number;
}

interface Usage {
  second: number;
  read: number;
  write: number;
}

const MAX_BATCH_KEYS = 100;

export class DynamoDbModel {
  private readonly tables = new Map<string, Table>();
  private readonly faults: Fault[] = [];
  private readonly usage = new Map<string, Usage>();
  readonly totals = new Map<string, OperationTotals>();
  readonly peakRead = new Map<string, PartitionPeak>();
  readonly peakWrite = new Map<string, PartitionPeak>();
  readonly throttles = new Map<string, number>();
  largestItem = { table: '', key: '', bytes: 0 };
  private readonly readLimit: number;
  private readonly writeLimit: number;

  constructor(private readonly options: DynamoDbModelOptions) {
    for (const spec of options.tables) this.tables.set(spec.name, { spec, partitions: new Map() });
    this.readLimit = options.partitionReadUnitsPerSecond ?? 3000;
    this.writeLimit = options.partitionWriteUnitsPerSecond ?? 1000;
  }

  /** A document client whose consumption is booked to `principal` (e.g. 'chat', 'heartbeat'). */
  client(principal: string): DynamoDBDocumentClient {
    const send = (command: unknown, options?: { abortSignal?: AbortSignal }) =>
      this.send(principal, command, options);
    return { send, destroy: () => {} } as unknown as DynamoDBDocumentClient;
  }

  addFault(fault: Fault): void {
    this.faults.push(fault);
  }

  /** The items of a table, for inspection (frozen). */
  items(table: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const partition of this.table(table).partitions.values()) {
      for (const stored of partition.values())
        if (stored.item) out.push(stored.item as Record<string, unknown>);
    }
    return out;
  }

  /** Hottest partition of the run: peak units in one partition in one second. */
  hottest(kind: 'read' | 'write'): PartitionPeak {
    let best: PartitionPeak = { partition: '', units: 0, second: 0 };
    for (const peak of (kind === 'read' ? this.peakRead : this.peakWrite).values()) {
      if (peak.units > best.units) best = peak;
    }
    return best;
  }

  send(principal: string, command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    const { time, random } = this.options;
    const name = commandName(command);
    const input = (command as { input: Record<string, unknown> }).input;
    const tableName = name === 'BatchGetCommand' ? Object.keys(input.RequestItems ?? {})[0] : input.TableName;
    const totals = this.totalsOf(principal, String(tableName), name);
    totals.count++;
    const signal = options?.abortSignal;
    const isWrite = name === 'PutCommand' || name === 'UpdateCommand' || name === 'DeleteCommand';
    const [low, high] = isWrite
      ? (this.options.writeLatencyMs ?? [5, 10])
      : (this.options.readLatencyMs ?? [3, 6]);
    const latency = random.between(low, high);
    const now = time.now();
    const fault = this.faults.find(
      (f) => f.command === name && f.table === tableName && now >= f.from && now < f.to,
    );
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        totals.errors[error.name] = (totals.errors[error.name] ?? 0) + 1;
        reject(error);
      };
      if (signal?.aborted) return fail(abortError(signal));
      let settled = false;
      let event: ScheduledEvent | undefined;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        if (event) time.cancel(event);
        fail(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      if (fault?.mode === 'hang') return;
      event = time.after(latency, () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (fault)
          return fail(new InternalServerError({ $metadata: {}, message: 'Injected fault (simulation)' }));
        try {
          resolve(this.execute(name, input, totals));
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
  }

  private execute(name: CommandName, input: Record<string, unknown>, totals: OperationTotals): unknown {
    const context = this.context(totals);
    if (name === 'BatchGetCommand') return this.batchGet(input, context, totals);
    const table = this.table(String(input.TableName));
    const consumed = (units: number, kind: 'read' | 'write') =>
      input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES'
        ? {
            ConsumedCapacity: {
              TableName: table.spec.name,
              CapacityUnits: units,
              ...(kind === 'read' ? { ReadCapacityUnits: units } : { WriteCapacityUnits: units }),
            },
          }
        : {};
    switch (name) {
      case 'GetCommand': {
        const result = readOne(table, input as GetInput, context);
        if (!result) throw throttled(keyOf(table, (input as GetInput).Key).partition);
        return {
          ...(result.item ? { Item: result.item } : {}),
          ...consumed(result.units, 'read'),
          $metadata: {},
        };
      }
      case 'QueryCommand': {
        const result = query(table, input as QueryInput, context);
        return {
          ...(input.Select === 'COUNT' ? {} : { Items: result.items }),
          Count: result.count,
          ScannedCount: result.scanned,
          ...(result.lastKey ? { LastEvaluatedKey: result.lastKey } : {}),
          ...consumed(result.units, 'read'),
          $metadata: {},
        };
      }
      case 'PutCommand':
      case 'UpdateCommand':
      case 'DeleteCommand': {
        const operation = name === 'PutCommand' ? put : name === 'UpdateCommand' ? update : remove;
        const result = operation(table, input as WriteInput, context);
        return {
          ...(result.attributes ? { Attributes: result.attributes } : {}),
          ...consumed(result.units, 'write'),
          $metadata: {},
        };
      }
    }
  }

  private batchGet(input: Record<string, unknown>, context: OperationContext, totals: OperationTotals) {
    const requests = (input.RequestItems ?? {}) as Record<
      string,
      GetInput & { Keys?: Record<string, unknown>[] }
    >;
    const all = Object.values(requests).reduce((sum, request) => sum + (request.Keys?.length ?? 0), 0);
    if (all === 0) throw validation('The requested item keys must not be empty');
    if (all > MAX_BATCH_KEYS) throw validation('Too many items requested for the BatchGetItem call');
    const responses: Record<string, unknown[]> = {};
    const unprocessed: Record<string, unknown> = {};
    let processed = 0;
    for (const [tableName, request] of Object.entries(requests)) {
      const table = this.table(tableName);
      const seen = new Set<string>();
      const items: unknown[] = [];
      const left: Record<string, unknown>[] = [];
      for (const key of request.Keys ?? []) {
        const id = keyOf(table, key).partition + JSON.stringify(key);
        if (seen.has(id)) throw validation('Provided list of item keys contains duplicates');
        seen.add(id);
        const { Keys: _keys, ...rest } = request;
        const result = readOne(table, { ...rest, Key: key }, context);
        if (!result) left.push(key);
        else {
          processed++;
          if (result.item) items.push(result.item);
        }
      }
      responses[tableName] = items;
      if (left.length > 0) unprocessed[tableName] = { ...request, Keys: left };
    }
    if (processed === 0) throw throttled(Object.keys(requests).join(','));
    if (Object.keys(unprocessed).length > 0)
      totals.errors.UnprocessedKeys = (totals.errors.UnprocessedKeys ?? 0) + 1;
    return { Responses: responses, UnprocessedKeys: unprocessed, $metadata: {} };
  }

  private context(totals: OperationTotals): OperationContext {
    const now = this.options.time.now();
    const lag = this.options.replicaLagMs ?? 10;
    return {
      now,
      charge: (charge) => this.charge(charge, now, totals),
      seesPrevious: (writtenAt) => now - writtenAt < this.options.random.next() * lag,
      stored: (table, key, bytes) => {
        if (bytes > this.largestItem.bytes) this.largestItem = { table, key, bytes };
      },
    };
  }

  private charge(charge: Charge, now: number, totals: OperationTotals): boolean {
    const second = Math.floor(now / 1000);
    let usage = this.usage.get(charge.partition);
    if (!usage) {
      usage = { second, read: 0, write: 0 };
      this.usage.set(charge.partition, usage);
    } else if (usage.second !== second) {
      usage.second = second;
      usage.read = 0;
      usage.write = 0;
    }
    const limit = charge.kind === 'read' ? this.readLimit : this.writeLimit;
    if (usage[charge.kind] + charge.units > limit) {
      this.throttles.set(charge.partition, (this.throttles.get(charge.partition) ?? 0) + 1);
      return false;
    }
    usage[charge.kind] += charge.units;
    if (charge.kind === 'read') totals.readUnits += charge.units;
    else totals.writeUnits += charge.units;
    const peaks = charge.kind === 'read' ? this.peakRead : this.peakWrite;
    const peak = peaks.get(charge.partition);
    if (!peak || usage[charge.kind] > peak.units) {
      peaks.set(charge.partition, { partition: charge.partition, units: usage[charge.kind], second });
    }
    return true;
  }

  private table(name: string): Table {
    const table = this.tables.get(name);
    if (!table) throw validation(`Requested resource not found: Table: ${name} not found`);
    return table;
  }

  private totalsOf(principal: string, table: string, name: string): OperationTotals {
    const key = `${principal} ${table} ${name}`;
    let totals = this.totals.get(key);
    if (!totals) {
      totals = { count: 0, readUnits: 0, writeUnits: 0, errors: {} };
      this.totals.set(key, totals);
    }
    return totals;
  }
}

function commandName(command: unknown): CommandName {
  if (command instanceof GetCommand) return 'GetCommand';
  if (command instanceof PutCommand) return 'PutCommand';
  if (command instanceof BatchGetCommand) return 'BatchGetCommand';
  if (command instanceof QueryCommand) return 'QueryCommand';
  if (command instanceof UpdateCommand) return 'UpdateCommand';
  if (command instanceof DeleteCommand) return 'DeleteCommand';
  throw new Error(`The DynamoDB model does not implement ${(command as object)?.constructor?.name}`);
}

function abortError(signal: AbortSignal | undefined): Error {
  const error = new Error('Request aborted');
  error.name = 'AbortError';
  (error as Error & { cause?: unknown }).cause = signal?.reason;
  return error;
}
