/**
 * The quota windows' stream slots as crash evidence (quota-items.ts): a window's `byLeases` entry is
 * written once, at its first grant, keyed by when every lease it granted is over (`sweep_at`). A release
 * deletes its slot, so a slot still on a window past that time was never released: its turn's process
 * died. A Query per shard finds the windows, a BatchGetItem per 100 reads them (eventually consistent:
 * whatever is done with a slot is conditional on its turn), page by page, so memory holds one page of
 * keys per shard read at a time, and SHARDS_AT_ONCE shards at a time: at the target a run (every
 * minute, looking back two) reads ~50,000 windows, paced so its reads stay a small share of the table's.
 */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { HeldSlot, StreamLeases } from '../../domain/ports';
import { LEASE_SHARDS } from '../../lib/resources';
import { getItems, type ItemKey } from './batches';
import { LEASE_INDEX, leaseShardKey, quotaItemState, slotIdOf } from './quota-items';

/** Shards read at once: each reads one BatchGetItem at a time, so this bounds the run's read rate. */
const SHARDS_AT_ONCE = 2;

export class DynamoDbStreamLeases implements StreamLeases {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  heldAfterWindowsEnded(from: number, to: number): Promise<HeldSlot[]> {
    return this.held({
      condition: 'leases = :shard AND sweep_at BETWEEN :from AND :to',
      values: { ':from': from, ':to': to },
    });
  }

  allHeld(): Promise<HeldSlot[]> {
    return this.held({ condition: 'leases = :shard', values: {} });
  }

  private async held(range: {
    readonly condition: string;
    readonly values: Record<string, number>;
  }): Promise<HeldSlot[]> {
    const found: HeldSlot[] = [];
    let next = 0;
    const worker = async () => {
      for (let shard = next++; shard < LEASE_SHARDS; shard = next++) {
        for await (const windows of this.pages(shard, range)) {
          for (const item of await getItems(this.doc, this.tableName, windows)) {
            for (const attribute of quotaItemState(item).slots.keys()) {
              found.push({ userId: String(item.pk), id: slotIdOf(attribute) });
            }
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(SHARDS_AT_ONCE, LEASE_SHARDS) }, worker));
    return found;
  }

  /** One shard's windows in range, a Query page (up to 1 MB of keys) at a time. */
  private async *pages(
    shard: number,
    range: { readonly condition: string; readonly values: Record<string, number> },
  ): AsyncGenerator<ItemKey[]> {
    const query: QueryCommandInput = {
      TableName: this.tableName,
      IndexName: LEASE_INDEX,
      KeyConditionExpression: range.condition,
      ExpressionAttributeValues: { ':shard': leaseShardKey(shard), ...range.values },
    };
    let startKey: Record<string, unknown> | undefined;
    do {
      const output = await this.doc.send(
        new QueryCommand({ ...query, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
      );
      yield (output.Items ?? []).map((key) => ({ pk: String(key.pk), sk: String(key.sk) }));
      startKey = output.LastEvaluatedKey;
    } while (startKey);
  }
}
