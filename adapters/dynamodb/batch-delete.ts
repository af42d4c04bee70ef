/**
 * Deletes items by key with BatchWriteItem, 25 at a time (its limit). DynamoDB may leave some of a batch
 * unprocessed when a partition is busy: those are sent again after a full-jitter backoff, and a batch still
 * unfinished after MAX_ATTEMPTS throws, so the caller (an erase job) is retried as a whole. Deleting an
 * absent key succeeds, which makes every retry safe.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export const BATCH_WRITE_LIMIT = 25;
const MAX_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function deleteKeys(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly ItemKey[],
): Promise<void> {
  for (let start = 0; start < keys.length; start += BATCH_WRITE_LIMIT) {
    let pending: Record<string, unknown>[] = keys
      .slice(start, start + BATCH_WRITE_LIMIT)
      .map((key) => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) {
        throw new Error(
          `BatchWriteItem left ${pending.length} deletes unprocessed after ${MAX_ATTEMPTS} attempts`,
        );
      }
      if (attempt > 0) await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
      const output = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (output.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
    }
  }
}
