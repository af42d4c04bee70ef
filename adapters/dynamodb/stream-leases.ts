/**
 * The quota windows' stream slots as crash evidence (quota-items.ts): a window's `byLeases` entry is
 * written once, at its first grant, keyed by when every lease it granted is over (`sweep_at`). A release
 * deletes its slot, so a slot still on a window past that time was never released: its turn's process
 * died. One Query per shard finds the windows, one BatchGetItem per 100 reads them (eventually
 * consistent: whatever is done with a slot is conditional on its turn).
 */
import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { HeldSlot, StreamLeases } from '../../domain/ports';
import { LEASE_SHARDS } from '../../lib/resources';
import { getItems, type ItemKey } from './batches';
import { LEASE_INDEX, leaseShardKey, quotaItemState, slotIdOf } from './quota-items';

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
    const windows: ItemKey[] = [];
    for (let shard = 0; shard < LEASE_SHARDS; shard++) {
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
        for (const key of output.Items ?? []) windows.push({ pk: String(key.pk), sk: String(key.sk) });
        startKey = output.LastEvaluatedKey;
      } while (startKey);
    }
    const items = await getItems(this.doc, this.tableName, windows);
    return items.flatMap((item) =>
      [...quotaItemState(item).slots.keys()].map((attribute) => ({
        userId: String(item.pk),
        id: slotIdOf(attribute),
      })),
    );
  }
}
