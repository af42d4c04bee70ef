/**
 * The fleet table (see fleetTable in lib/resources.ts): written by the heartbeat, read by the chat function.
 *
 * Server item: pk = SERVER#<id>, id, base_url, running, waiting, kv_cache_usage?, capacity, healthy,
 *              updated_at (epoch ms). One per configured server; last writer wins (each heartbeat run
 *              writes what it just scraped).
 * State item:  pk = STATE, mode, load, free_admit_ratio, shed_since?, below_since?, free_returns_at?,
 *              updated_at (epoch ms), version, servers (list of maps shaped like the server item,
 *              without pk). The snapshot of the servers in it lets the chat function admit AND route
 *              with ONE GetItem.
 *              `load` is null when no server is available (the domain's Infinity: DynamoDB numbers
 *              cannot hold it).
 *
 * The state is written with a single-item conditional Put on its version (optimistic concurrency), so
 * overlapping heartbeat runs cannot interleave their read-modify-write cycles.
 */
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { FleetMode, FleetState, ServerLoad } from '../../domain/fleet';
import type { FleetRepository } from '../../domain/ports';

export const FLEET_STATE_KEY = 'STATE';
export const SERVER_PREFIX = 'SERVER#';
export const serverKey = (id: string) => `${SERVER_PREFIX}${id}`;

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;
/** Retries of unprocessed items (throttling) before giving up on a batch. */
const UNPROCESSED_RETRIES = 3;

const FLEET_MODES: ReadonlySet<string> = new Set<FleetMode>(['normal', 'shed_free', 'saturated']);

export interface ServerLoadAttributes {
  readonly id: string;
  readonly base_url: string;
  readonly running: number;
  readonly waiting: number;
  readonly kv_cache_usage?: number;
  readonly completed_total?: number;
  readonly completion_rate?: number;
  readonly capacity: number;
  readonly healthy: boolean;
  readonly updated_at: number;
}

export interface FleetStateItem {
  readonly pk: typeof FLEET_STATE_KEY;
  readonly mode: FleetMode;
  /** null = no available server (Infinity in the domain). */
  readonly load: number | null;
  readonly free_admit_ratio: number;
  /** null = no available server. */
  readonly smoothed_load?: number | null;
  readonly no_safe_since?: number;
  readonly shed_since?: number;
  readonly below_since?: number;
  readonly free_returns_at?: number;
  readonly updated_at: number;
  readonly version: number;
  readonly servers: readonly ServerLoadAttributes[];
}

const isConditionalCheckFailed = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

export class DynamoDbFleetRepository implements FleetRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async saveServers(servers: readonly ServerLoad[]): Promise<void> {
    const batches: ServerLoad[][] = [];
    for (let i = 0; i < servers.length; i += BATCH_SIZE) batches.push(servers.slice(i, i + BATCH_SIZE));
    await Promise.all(batches.map((batch) => this.writeBatch(batch)));
  }

  async getState(): Promise<FleetState | undefined> {
    const output = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: FLEET_STATE_KEY }, ConsistentRead: true }),
    );
    return output.Item ? fleetStateFromItem(output.Item) : undefined;
  }

  async saveState(state: FleetState, expectedVersion: number | undefined): Promise<boolean> {
    const condition: Pick<
      PutCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > =
      expectedVersion === undefined
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : {
            ConditionExpression: '#version = :expected',
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':expected': expectedVersion },
          };
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: fleetStateToItem(state), ...condition }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async writeBatch(batch: readonly ServerLoad[]): Promise<void> {
    type WriteRequests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>;
    let requests: WriteRequests = {
      [this.tableName]: batch.map((server) => ({
        PutRequest: { Item: { pk: serverKey(server.id), ...serverLoadToAttributes(server) } },
      })),
    };
    for (let attempt = 0; ; attempt++) {
      const output = await this.doc.send(new BatchWriteCommand({ RequestItems: requests }));
      const unprocessed = output.UnprocessedItems;
      if (!unprocessed || Object.values(unprocessed).every((items) => items.length === 0)) return;
      if (attempt >= UNPROCESSED_RETRIES) {
        throw new Error(`Fleet server items left unprocessed after ${UNPROCESSED_RETRIES} retries`);
      }
      requests = unprocessed as WriteRequests;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
    }
  }
}

export function serverLoadToAttributes(server: ServerLoad): ServerLoadAttributes {
  return {
    id: server.id,
    base_url: server.baseUrl,
    running: server.running,
    waiting: server.waiting,
    ...(server.kvCacheUsage === undefined ? {} : { kv_cache_usage: server.kvCacheUsage }),
    ...(server.completedTotal === undefined ? {} : { completed_total: server.completedTotal }),
    ...(server.completionRate === undefined ? {} : { completion_rate: server.completionRate }),
    capacity: server.capacity,
    healthy: server.healthy,
    updated_at: server.updatedAt,
  };
}

export function fleetStateToItem(state: FleetState): FleetStateItem {
  return {
    pk: FLEET_STATE_KEY,
    mode: state.mode,
    load: Number.isFinite(state.load) ? state.load : null,
    free_admit_ratio: state.freeAdmitRatio,
    smoothed_load: Number.isFinite(state.smoothedLoad) ? state.smoothedLoad : null,
    ...(state.noSafeSince === undefined ? {} : { no_safe_since: state.noSafeSince }),
    ...(state.shedSince === undefined ? {} : { shed_since: state.shedSince }),
    ...(state.belowSince === undefined ? {} : { below_since: state.belowSince }),
    ...(state.freeReturnsAt === undefined ? {} : { free_returns_at: state.freeReturnsAt }),
    updated_at: state.updatedAt,
    version: state.version,
    servers: state.servers.map(serverLoadToAttributes),
  };
}

/** The state from its stored item (also usable on an item the chat function read itself). */
export function fleetStateFromItem(item: Record<string, unknown>): FleetState {
  const fail = (message: string): never => {
    throw new Error(`Malformed fleet state item: ${message}`);
  };
  const mode = item.mode;
  if (typeof mode !== 'string' || !FLEET_MODES.has(mode)) fail(`mode ${String(mode)}`);
  const load = item.load;
  if (load !== null && typeof load !== 'number') fail('load is neither a number nor null');
  const servers = item.servers;
  if (!Array.isArray(servers)) fail('servers is not a list');
  const shedSince = optionalNumber(item, 'shed_since', fail);
  const belowSince = optionalNumber(item, 'below_since', fail);
  const freeReturnsAt = optionalNumber(item, 'free_returns_at', fail);
  const noSafeSince = optionalNumber(item, 'no_safe_since', fail);
  const smoothed = item.smoothed_load;
  const instant = typeof load === 'number' ? load : Number.POSITIVE_INFINITY;
  return {
    mode: mode as FleetMode,
    load: instant,
    // States written before smoothing existed: the instantaneous load.
    smoothedLoad:
      typeof smoothed === 'number' ? smoothed : smoothed === null ? Number.POSITIVE_INFINITY : instant,
    freeAdmitRatio: requiredNumber(item, 'free_admit_ratio', fail),
    ...(noSafeSince === undefined ? {} : { noSafeSince }),
    ...(shedSince === undefined ? {} : { shedSince }),
    ...(belowSince === undefined ? {} : { belowSince }),
    ...(freeReturnsAt === undefined ? {} : { freeReturnsAt }),
    updatedAt: requiredNumber(item, 'updated_at', fail),
    version: requiredNumber(item, 'version', fail),
    servers: (servers as unknown[]).map((server) => serverLoadFromAttributes(server)),
  };
}

/** A server load from a server item or from an entry of the state's servers list. */
export function serverLoadFromAttributes(value: unknown): ServerLoad {
  if (typeof value !== 'object' || value === null) throw new Error('Malformed fleet server entry: not a map');
  const item = value as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new Error(`Malformed fleet server entry ${String(item.id)}: ${message}`);
  };
  const id = item.id;
  const baseUrl = item.base_url;
  const healthy = item.healthy;
  if (typeof id !== 'string') fail('id is not a string');
  if (typeof baseUrl !== 'string') fail('base_url is not a string');
  if (typeof healthy !== 'boolean') fail('healthy is not a boolean');
  const kvCacheUsage = optionalNumber(item, 'kv_cache_usage', fail);
  const completedTotal = optionalNumber(item, 'completed_total', fail);
  const completionRate = optionalNumber(item, 'completion_rate', fail);
  return {
    id: id as string,
    baseUrl: baseUrl as string,
    running: requiredNumber(item, 'running', fail),
    waiting: requiredNumber(item, 'waiting', fail),
    ...(kvCacheUsage === undefined ? {} : { kvCacheUsage }),
    ...(completedTotal === undefined ? {} : { completedTotal }),
    ...(completionRate === undefined ? {} : { completionRate }),
    capacity: requiredNumber(item, 'capacity', fail),
    healthy: healthy as boolean,
    updatedAt: requiredNumber(item, 'updated_at', fail),
  };
}

function requiredNumber(item: Record<string, unknown>, attribute: string, fail: (message: string) => never) {
  const value = item[attribute];
  if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`${attribute} is not a number`);
  return value;
}

function optionalNumber(
  item: Record<string, unknown>,
  attribute: string,
  fail: (message: string) => never,
): number | undefined {
  const value = item[attribute];
  if (value === undefined || value === null) return undefined;
  return requiredNumber(item, attribute, fail);
}
