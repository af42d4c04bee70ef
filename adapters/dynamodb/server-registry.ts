/**
 * The server registry table (serverRegistryTable in lib/resources.ts): written by operators
 * (`npm run fleet`, bin/fleet.ts), read by the heartbeat every couple of seconds.
 *
 * Items and keys: registry-items.ts.
 *
 * A bucket is one partition of a few dozen small items (REGISTRY_BUCKETS = 64 fixed buckets; 5,000
 * servers ≈ 80 per bucket, ~10 KB: test/adapters/dynamodb/server-registry-sizing.test.ts), so heartbeat
 * shard k of S reads its buckets with one Query each, in parallel, eventually consistent (half the read
 * cost; a registry change may take a second to show, far below the heartbeat's period). Pages are
 * followed all the same (LastEvaluatedKey).
 *
 * Reading is strict: an item that is not a valid registration (missing or malformed attribute, an id that
 * hashes to another bucket — e.g. written by hand) is left out of the list, never breaks it; the rest of
 * the fleet keeps being scraped. This adapter has no logger: pass `onMalformedItem` to hear of such items
 * (the heartbeat can log them, the CLI prints them).
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { bucketsOfShard, validateShard, validateShardCount } from '../../domain/fleet-shards';
import type { Clock, RegisteredServer, ServerRegistry } from '../../domain/ports';
import { InvalidServerRegistration, parseServerId } from '../../domain/server-registration';
import { isConditionalCheckFailed } from './errors';
import {
  bucketKey,
  fromRegistryItem,
  REGISTRY_STATUSES,
  registryKey,
  toRegistryItem,
} from './registry-items';

/** An item left out of a listing, and why. */
export interface MalformedRegistryItem {
  readonly bucket: string;
  /** The item's `id` attribute as stored, when it is a string. */
  readonly id: string | undefined;
  readonly reason: string;
}

export interface ServerRegistryOptions {
  /** Told of every item a listing leaves out. */
  readonly onMalformedItem?: (item: MalformedRegistryItem) => void;
  /** Query page size (Limit). Default: none (DynamoDB's 1 MB pages). Tests set it to exercise paging. */
  readonly pageSize?: number;
  readonly clock?: Clock;
}

/** An id no registration can have (empty, too long, bad characters) names no server: nothing to update. */
function isRegistrableId(id: string): boolean {
  try {
    return parseServerId(id) === id;
  } catch {
    return false;
  }
}

export class DynamoDbServerRegistry implements ServerRegistry {
  private readonly clock: Clock;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: ServerRegistryOptions = {},
  ) {
    this.clock = options.clock ?? { now: () => Date.now() };
    const { pageSize } = options;
    if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1)) {
      throw new Error(`The registry page size must be an integer >= 1, got ${pageSize}.`);
    }
  }

  /** Sorted by id. Throws if any bucket's Query fails (a partial list would drop servers silently). */
  async listShard(
    shard: number,
    shards: number,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<RegisteredServer[]> {
    validateShardCount(shards);
    validateShard(shard, shards);
    const perBucket = await Promise.all(
      bucketsOfShard(shard, shards).map((bucket) => this.listBucket(bucket, options.signal)),
    );
    return perBucket.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  listAll(): Promise<RegisteredServer[]> {
    return this.listShard(0, 1);
  }

  async put(server: RegisteredServer): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: toRegistryItem(server, this.clock.now()) }),
    );
  }

  async setStatus(id: string, status: RegisteredServer['status']): Promise<boolean> {
    if (!REGISTRY_STATUSES.has(status)) throw new InvalidServerRegistration(`unknown status ${status}`);
    if (!isRegistrableId(id)) return false;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: registryKey(id),
          UpdateExpression: 'SET #status = :status, updated_at = :now',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#status': 'status', '#id': 'id' },
          ExpressionAttributeValues: { ':status': status, ':now': this.clock.now() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async remove(id: string): Promise<boolean> {
    if (!isRegistrableId(id)) return false;
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: registryKey(id),
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private async listBucket(bucket: number, signal: AbortSignal | undefined): Promise<RegisteredServer[]> {
    const key = bucketKey(bucket);
    const servers: RegisteredServer[] = [];
    let startKey: QueryCommandOutput['LastEvaluatedKey'];
    do {
      const output: QueryCommandOutput = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          // BUCKET is a DynamoDB reserved word.
          KeyConditionExpression: '#bucket = :bucket',
          ExpressionAttributeNames: { '#bucket': 'bucket' },
          ExpressionAttributeValues: { ':bucket': key },
          ConsistentRead: false,
          ...(this.options.pageSize === undefined ? {} : { Limit: this.options.pageSize }),
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
        signal ? { abortSignal: signal } : {},
      );
      for (const item of output.Items ?? []) {
        const server = fromRegistryItem(item);
        if ('reason' in server) {
          const id = typeof item.id === 'string' ? item.id : undefined;
          this.options.onMalformedItem?.({ bucket: key, id, reason: server.reason });
        } else {
          servers.push(server);
        }
      }
      startKey = output.LastEvaluatedKey;
    } while (startKey !== undefined);
    return servers;
  }
}
