/**
 * BatchWriteItem and BatchGetItem by key, in chunks of their limits. DynamoDB may leave some of a batch
 * unprocessed when a partition is busy: those are sent again after a full-jitter backoff, and a batch still
 * unfinished after MAX_ATTEMPTS throws, so the caller (an erase job, a page read) fails or is retried as a
 * whole. Deleting an absent key succeeds, and reading one returns nothing, which makes every retry safe.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

export const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const MAX_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `chunk` and then what each answer left unprocessed, until nothing is left. */
async function untilProcessed<T>(
  chunk: readonly T[],
  send: (pending: readonly T[]) => Promise<readonly T[]>,
  what: string,
): Promise<void> {
  let pending = chunk;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= MAX_ATTEMPTS) {
      throw new Error(`${what} left ${pending.length} keys unprocessed after ${MAX_ATTEMPTS} attempts`);
    }
    if (attempt > 0) await sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
    pending = await send(pending);
  }
}

export async function deleteKeys(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly ItemKey[],
): Promise<void> {
  for (let start = 0; start < keys.length; start += BATCH_WRITE_LIMIT) {
    const chunk = keys
      .slice(start, start + BATCH_WRITE_LIMIT)
      .map((key): Record<string, unknown> => ({ DeleteRequest: { Key: { pk: key.pk, sk: key.sk } } }));
    await untilProcessed(
      chunk,
      async (pending) => {
        const output = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: [...pending] } }));
        return (output.UnprocessedItems?.[tableName] ?? []) as Record<string, unknown>[];
      },
      'BatchWriteItem',
    );
  }
}

/**
 * The items of `keys`, in the keys' order, eventually consistent (0.5 RRU per item under 4 KB). A key
 * whose item is gone (deleted meanwhile) is left out.
 */
export async function getItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly ItemKey[],
): Promise<Record<string, unknown>[]> {
  const found = new Map<string, Record<string, unknown>>();
  const id = (key: { pk?: unknown; sk?: unknown }) => `${String(key.pk)}\u0000${String(key.sk)}`;
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    const chunk = keys
      .slice(start, start + BATCH_GET_LIMIT)
      .map((key): Record<string, unknown> => ({ pk: key.pk, sk: key.sk }));
    await untilProcessed(
      chunk,
      async (pending) => {
        const output = await doc.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: [...pending] } } }),
        );
        for (const item of output.Responses?.[tableName] ?? []) found.set(id(item), item);
        return output.UnprocessedKeys?.[tableName]?.Keys ?? [];
      },
      'BatchGetItem',
    );
  }
  return keys.flatMap((key) => {
    const item = found.get(id(key));
    return item ? [item] : [];
  });
}
