import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbQuotaCounter } from '../../../adapters/dynamodb/quota-counter';
import {
  LEASE_INDEX,
  leaseShardOf,
  quotaSortKey,
  SWEEP_GRACE_MS,
  SWEEP_SPREAD_MS,
  sweepAt,
} from '../../../adapters/dynamodb/quota-items';
import { writeCost } from '../../../bench/cost/dynamodb-units';
import type { TableSchema } from '../../../bench/cost/table-schema';
import type { QuotaDecision, StreamSlot } from '../../../domain/ports';
import type { PromptLimits } from '../../../domain/quota';
import { chatTable, LEASE_SHARDS } from '../../../lib/resources';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let counter: DynamoDbQuotaCounter;

const HOUR = 3_600_000;
/** 10:00:30 UTC on a day: inside a 3 h window starting at 09:00. */
const T0 = Date.UTC(2026, 11, 2, 10, 0, 30);
const LIMITS: PromptLimits = {
  promptsPerWindow: 3,
  concurrentStreams: 2,
  promptsPerMinute: 10,
  windowMs: 3 * HOUR,
  streamLeaseMs: 300_000,
};

beforeAll(async () => {
  db = await startTestDynamoDb();
  counter = new DynamoDbQuotaCounter(db.doc, db.tableNames.ChatTable);
});
afterAll(() => db?.close());

function granted(decision: QuotaDecision): StreamSlot {
  if (!decision.granted) throw new Error(`refused: ${decision.reason}`);
  return decision.slot;
}

async function item(userId: string, windowStart: number) {
  const output = await db.doc.send(
    new GetCommand({
      TableName: db.tableNames.ChatTable,
      Key: { pk: userId, sk: quotaSortKey(windowStart) },
    }),
  );
  return output.Item;
}

describe('DynamoDbQuotaCounter.acquire', () => {
  it('counts prompts up to the window limit, then refuses until the window resets', async () => {
    // Prepare
    const user = 'u-window';
    const roomy = { ...LIMITS, concurrentStreams: 10 };

    // Act
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await counter.acquire(user, `s${i}`, roomy, T0 + i));

    // Assess
    expect(decisions.slice(0, 3).map((d) => d.granted && d.prompts)).toEqual([1, 2, 3]);
    const fourth = decisions[3];
    expect(fourth).toMatchObject({ granted: false, reason: 'window', prompts: 3 });
    // The window started at 09:00 and ends at 12:00: 1 h 59 min 29.997 s later.
    expect(fourth?.granted === false && fourth.retryAfterMs).toBe(2 * HOUR - 30_000 - 3);
    // The next window starts afresh.
    expect(await counter.acquire(user, 's4', roomy, T0 + 2 * HOUR)).toMatchObject({
      granted: true,
      prompts: 1,
    });
  });

  it('keys the window in byLeases for when its longest stream is over, and expires it after the sweep', async () => {
    // Prepare / Act
    const slot = granted(await counter.acquire('u-ttl', 'a', LIMITS, T0));

    // Assess
    const stored = await item('u-ttl', slot.windowStart);
    const over = sweepAt('u-ttl', slot.windowStart, LIMITS.windowMs, LIMITS.streamLeaseMs);
    expect(stored).toMatchObject({ leases: leaseShardOf('u-ttl'), sweep_at: over });
    // Past the window's end and its longest lease, at the user's place in the spread.
    const leasesOver = slot.windowStart + LIMITS.windowMs + LIMITS.streamLeaseMs;
    expect(over).toBeGreaterThanOrEqual(leasesOver);
    expect(over).toBeLessThan(leasesOver + SWEEP_SPREAD_MS);
    expect(chatTable.timeToLiveAttribute).toBe('expires_at');
    expect(stored?.expires_at).toBe(Math.ceil((over + SWEEP_GRACE_MS) / 1000));
    expect(stored?.s_a).toBe(T0 + LIMITS.streamLeaseMs);
  });

  it("writes the byLeases index at the window's first grant only, not once per turn", async () => {
    // Prepare: the chat table's schema as the cost model prices it.
    const schema: TableSchema = {
      name: chatTable.id,
      partitionKey: 'pk',
      sortKey: 'sk',
      indexes: chatTable.globalSecondaryIndexes.map((index) => ({
        name: index.indexName,
        partitionKey: index.partitionKey.name,
        ...('sortKey' in index ? { sortKey: index.sortKey.name } : {}),
        projection: { type: index.projection },
      })),
      tableClass: 'STANDARD',
      pointInTimeRecovery: true,
    };
    const user = 'u-index';
    const roomy = { ...LIMITS, promptsPerWindow: 50 };
    const images: (Record<string, unknown> | undefined)[] = [undefined];

    // Act: a grant, its release, and a second grant in the same window.
    const first = granted(await counter.acquire(user, 'a', roomy, T0));
    images.push(await item(user, first.windowStart));
    await counter.release(user, first);
    images.push(await item(user, first.windowStart));
    granted(await counter.acquire(user, 'b', roomy, T0 + 60_000));
    images.push(await item(user, first.windowStart));

    // Assess
    const indexWrites = images
      .slice(1)
      .map((after, n) => writeCost(schema, images[n], after, 'applied').indexes[LEASE_INDEX]);
    expect(indexWrites).toEqual([1, undefined, undefined]);
    // The shards are a hash of the user, all of them used.
    const shards = new Set(Array.from({ length: 400 }, (_, i) => leaseShardOf(`user-${i}`)));
    expect(shards.size).toBe(LEASE_SHARDS);
  });

  it('refuses a third concurrent stream, and grants again once one is released', async () => {
    // Prepare
    const user = 'u-streams';
    const roomy = { ...LIMITS, promptsPerWindow: 50 };
    const first = granted(await counter.acquire(user, 'a', roomy, T0));
    granted(await counter.acquire(user, 'b', roomy, T0 + 1));

    // Act
    const third = await counter.acquire(user, 'c', roomy, T0 + 2);
    await counter.release(user, first);
    await counter.release(user, first); // idempotent
    const fourth = await counter.acquire(user, 'd', roomy, T0 + 3);

    // Assess
    expect(third).toMatchObject({ granted: false, reason: 'streams', retryAfterMs: 5_000 });
    expect(fourth).toMatchObject({ granted: true, prompts: 3 });
    expect((await item(user, first.windowStart))?.streams).toBe(2);
  });

  it('forgets a slot whose lease ended (a crashed container never released it)', async () => {
    // Prepare: two streams, never released.
    const user = 'u-leak';
    const roomy = { ...LIMITS, promptsPerWindow: 50 };
    granted(await counter.acquire(user, 'dead1', roomy, T0));
    granted(await counter.acquire(user, 'dead2', roomy, T0 + 1));

    // Act: within the lease the slots still count; past it they do not.
    const during = await counter.acquire(user, 'x', roomy, T0 + LIMITS.streamLeaseMs - 1);
    const after = await counter.acquire(user, 'y', roomy, T0 + LIMITS.streamLeaseMs + 2);

    // Assess
    expect(during).toMatchObject({ granted: false, reason: 'streams' });
    expect(after).toMatchObject({ granted: true });
    // It reports the slots it dropped: their turns' processes died.
    expect(after.granted && [...(after.abandoned ?? [])].sort()).toEqual(['dead1', 'dead2']);
    const stored = await item(user, windowStartOf(T0));
    expect(stored?.streams).toBe(1);
    expect(Object.keys(stored ?? {}).filter((name) => name.startsWith('s_'))).toEqual(['s_y']);
  });

  it('refuses more prompts a minute than the burst limit, and allows them the next minute', async () => {
    // Prepare
    const user = 'u-burst';
    const burst = { ...LIMITS, promptsPerWindow: 50, concurrentStreams: 50, promptsPerMinute: 2 };
    granted(await counter.acquire(user, 'a', burst, T0));
    granted(await counter.acquire(user, 'b', burst, T0 + 1));

    // Act
    const third = await counter.acquire(user, 'c', burst, T0 + 2);
    const nextMinute = await counter.acquire(user, 'd', burst, T0 + 30_000);

    // Assess: T0 is 30 s into its minute.
    expect(third).toMatchObject({ granted: false, reason: 'burst', retryAfterMs: 30_000 - 2 });
    expect(nextMinute).toMatchObject({ granted: true, prompts: 3 });
  });
});

describe('DynamoDbQuotaCounter.refund', () => {
  it('gives the prompt, its minute and its slot back, once', async () => {
    // Prepare
    const user = 'u-refund';
    granted(await counter.acquire(user, 'a', LIMITS, T0));
    const refused = granted(await counter.acquire(user, 'b', LIMITS, T0 + 1));

    // Act
    await counter.refund(user, refused, T0 + 2);
    await counter.refund(user, refused, T0 + 3);

    // Assess
    const stored = await item(user, refused.windowStart);
    expect(stored).toMatchObject({ prompts: 1, streams: 1 });
    expect(stored?.[`b_${Math.floor(T0 / 60_000)}`]).toBe(1);
    expect(stored?.s_b).toBeUndefined();
  });
});

describe('DynamoDbQuotaCounter.addStoredBytes', () => {
  it('adds bytes up to the day’s limit and refuses the store that would pass it', async () => {
    // Prepare
    const user = 'u-store';

    // Act
    const first = await counter.addStoredBytes(user, 600, 1_000, T0);
    const second = await counter.addStoredBytes(user, 500, 1_000, T0 + 1);
    await counter.refundStoredBytes(user, 600, T0 + 2);
    const third = await counter.addStoredBytes(user, 500, 1_000, T0 + 3);
    const tomorrow = await counter.addStoredBytes(user, 1_000, 1_000, T0 + 24 * HOUR);

    // Assess
    expect(first).toEqual({ granted: true });
    expect(second).toEqual({ granted: false, retryAfterMs: 14 * HOUR - 30_000 - 1 });
    expect(third).toEqual({ granted: true });
    expect(tomorrow).toEqual({ granted: true });
  });
});

const windowStartOf = (now: number) => now - (now % LIMITS.windowMs);
