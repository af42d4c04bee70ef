/**
 * The fleet table (see fleetTable in lib/resources.ts): one view item per heartbeat shard, written by that
 * shard's heartbeat worker and read by the chat function, one view per admission; every worker also reads
 * all shards' totals. A view is written with a single-item conditional Put on its version, so two
 * overlapping runs of one shard cannot interleave. Items and keys: fleet-items.ts.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type PutCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { FleetState, ShardTotals } from '../../domain/fleet';
import type { FleetRepository } from '../../domain/ports';
import { isConditionalCheckFailed } from './errors';
import {
  fleetStateFromItem,
  fleetStateToItem,
  shardTotalsFromItem,
  TOTALS_PROJECTION,
  TOTALS_PROJECTION_NAMES,
  viewKey,
} from './fleet-items';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_SIZE = 100;
/** Retries of unprocessed keys (throttling) before going on without them. */
const UNPROCESSED_RETRIES = 3;

type SendOptions = { readonly signal?: AbortSignal };
const sendOptions = (options?: SendOptions) => (options?.signal ? { abortSignal: options.signal } : {});

export class DynamoDbFleetRepository implements FleetRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getView(
    shard: number,
    options?: { readonly consistent?: boolean; readonly signal?: AbortSignal },
  ): Promise<FleetState | undefined> {
    const output = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: viewKey(shard) },
        ConsistentRead: options?.consistent === true,
      }),
      sendOptions(options),
    );
    return output.Item ? fleetStateFromItem(output.Item) : undefined;
  }

  async getShardTotals(shards: number, options?: SendOptions): Promise<ShardTotals[]> {
    const keys = Array.from({ length: shards }, (_, shard) => ({ pk: viewKey(shard) }));
    const totals: ShardTotals[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_SIZE) {
      let pending: Record<string, unknown>[] = keys.slice(i, i + BATCH_GET_SIZE);
      for (let attempt = 0; pending.length > 0 && attempt <= UNPROCESSED_RETRIES; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
        const output = await this.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ProjectionExpression: TOTALS_PROJECTION,
                ExpressionAttributeNames: TOTALS_PROJECTION_NAMES,
              },
            },
          }),
          sendOptions(options),
        );
        for (const item of output.Responses?.[this.tableName] ?? []) {
          // One malformed view must not blind every worker to the other shards: it is left out.
          try {
            totals.push(shardTotalsFromItem(item));
          } catch {
            // (its own worker rewrites it on its next tick)
          }
        }
        pending = output.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return totals;
  }

  async saveView(state: FleetState, expectedVersion: number | undefined, options?: SendOptions) {
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
        sendOptions(options),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }
}
