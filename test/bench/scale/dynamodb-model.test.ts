import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbServerRegistry } from '../../../adapters/dynamodb/server-registry';
import { DynamoDbModel } from '../../../bench/scale/dynamodb-model';
import { Random } from '../../../bench/scale/random';
import { VirtualTime } from '../../../bench/scale/virtual-time';
import { itemBytes, readUnits, valueBytes, writeUnits } from '../../../bench/shared/dynamodb-size';
import { bucketOf } from '../../../domain/fleet-shards';

const EPOCH = Date.UTC(2027, 0, 4, 9, 0, 0);

function setup() {
  const time = new VirtualTime({ epochMs: EPOCH });
  const model = new DynamoDbModel({
    time,
    random: new Random(7),
    tables: [
      { name: 'T', partitionKey: 'pk' },
      { name: 'R', partitionKey: 'bucket', sortKey: 'id' },
    ],
  });
  return { time, model, doc: model.client('test') };
}

/** Sends all at once, lets virtual time run, and tells what each became. */
async function settle(time: VirtualTime, sends: Promise<unknown>[]) {
  const all = Promise.allSettled(sends);
  await time.run(time.now() + 100);
  const results = await all;
  const names = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as Error).name));
  return { results, count: (name: string) => names.filter((n) => n === name).length };
}

describe('DynamoDB sizes and units', () => {
  it('sizes attributes by the rules: names + values, numbers by significant digits', () => {
    expect(itemBytes({ pk: 'VIEW#1' })).toBe(2 + 6);
    expect(valueBytes(1_767_225_600_000)).toBe(5); // 8 significant digits → 4 + 1
    expect(valueBytes(123_456)).toBe(4);
    expect(valueBytes(0.5)).toBe(2);
    expect(valueBytes(0)).toBe(2);
    expect(valueBytes(true)).toBe(1);
    expect(valueBytes(null)).toBe(1);
    expect(valueBytes('héllo')).toBe(6); // UTF-8
    expect(valueBytes([1, 'ab'])).toBe(3 + 2 + 1 + 2 + 1);
    expect(valueBytes({ a: 1 })).toBe(3 + 1 + 2 + 1);
    expect(itemBytes({ pk: 'a', n: 12, m: { x: true } })).toBe(2 + 1 + (1 + 2) + (1 + 3 + (1 + 1 + 1)));
    expect(() => valueBytes(Number.POSITIVE_INFINITY)).toThrow(/not allowed/);
    expect(() => valueBytes(1e-140)).toThrow(/underflow/);
  });

  it('rounds units up per 4 KB read (half for eventually consistent) and per 1 KB written', () => {
    expect(readUnits(0, true)).toBe(1);
    expect(readUnits(4096, true)).toBe(1);
    expect(readUnits(4097, true)).toBe(2);
    expect(readUnits(4097, false)).toBe(1);
    expect(readUnits(100, false)).toBe(0.5);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(writeUnits(0)).toBe(1);
  });
});

describe('DynamoDbModel', () => {
  it('throttles a partition past 1,000 WCU in one second, and not another partition', async () => {
    const { time, model, doc } = setup();
    const item = (pk: string, i: number) => ({ pk, i, pad: 'x'.repeat(900) }); // < 1 KB: 1 WCU each
    const first = await settle(
      time,
      Array.from({ length: 1_001 }, (_, i) =>
        doc.send(new PutCommand({ TableName: 'T', Item: item('hot', i) })),
      ),
    );
    expect(first.count('ok')).toBe(1_000);
    expect(first.count('ProvisionedThroughputExceededException')).toBe(1);
    const other = await settle(time, [doc.send(new PutCommand({ TableName: 'T', Item: item('cold', 0) }))]);
    expect(other.count('ok')).toBe(1);
    expect(model.hottest('write')).toMatchObject({ partition: 'T|hot', units: 1_000 });
    await time.run(time.now() + 1_000);
    const nextSecond = await settle(time, [
      doc.send(new PutCommand({ TableName: 'T', Item: item('hot', 0) })),
    ]);
    expect(nextSecond.count('ok')).toBe(1);
  });

  it('throttles reads past 3,000 RCU in one second (strong: 1 per 4 KB, eventual: half)', async () => {
    const { time, model, doc } = setup();
    await settle(time, [
      doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'big', pad: 'y'.repeat(4000) } })),
    ]);
    await time.run(time.now() + 1_000);
    const strong = await settle(
      time,
      Array.from({ length: 3_001 }, () =>
        doc.send(new GetCommand({ TableName: 'T', Key: { pk: 'big' }, ConsistentRead: true })),
      ),
    );
    expect(strong.count('ok')).toBe(3_000);
    expect(strong.count('ProvisionedThroughputExceededException')).toBe(1);
    await time.run(time.now() + 1_000);
    const eventual = await settle(
      time,
      Array.from({ length: 6_001 }, () => doc.send(new GetCommand({ TableName: 'T', Key: { pk: 'big' } }))),
    );
    expect(eventual.count('ok')).toBe(6_000);
    expect(eventual.count('ProvisionedThroughputExceededException')).toBe(1);
    expect(model.hottest('read').units).toBe(3_000);
  });

  it('returns throttled BatchGet keys as UnprocessedKeys', async () => {
    const { time, doc } = setup();
    await settle(time, [
      doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'a', pad: 'z'.repeat(4000) } })),
      doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'b' } })),
    ]);
    await time.run(time.now() + 1_000);
    await settle(
      time,
      Array.from({ length: 3_000 }, () =>
        doc.send(new GetCommand({ TableName: 'T', Key: { pk: 'a' }, ConsistentRead: true })),
      ),
    );
    const batch = await settle(time, [
      doc.send(
        new BatchGetCommand({
          RequestItems: { T: { Keys: [{ pk: 'a' }, { pk: 'b' }], ProjectionExpression: 'pk' } },
        }),
      ),
    ]);
    const output = (batch.results[0] as PromiseFulfilledResult<unknown>).value as {
      Responses: Record<string, unknown[]>;
      UnprocessedKeys: Record<string, { Keys: unknown[] }>;
    };
    expect(output.Responses.T).toEqual([{ pk: 'b' }]);
    expect(output.UnprocessedKeys.T?.Keys).toEqual([{ pk: 'a' }]);
  });

  it('refuses an item over 400 KB and records the largest item stored', async () => {
    const { time, model, doc } = setup();
    const near = 400 * 1024 - 4; // "pk" + "n" + "p": exactly 400 KB
    const sent = await settle(time, [
      doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'n', p: 'x'.repeat(near) } })),
      doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'o', p: 'x'.repeat(near + 1) } })),
    ]);
    expect(sent.count('ok')).toBe(1);
    expect(sent.count('ValidationException')).toBe(1);
    expect(model.largestItem.bytes).toBe(400 * 1024);
  });

  it('evaluates conditions and refuses unused placeholders and bare reserved words', async () => {
    const { time, doc } = setup();
    const put = (version: number, expected?: number) =>
      doc.send(
        new PutCommand({
          TableName: 'T',
          Item: { pk: 'VIEW#0', version },
          ...(expected === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expected },
              }),
        }),
      );
    const results = await settle(time, [put(1)]);
    expect(results.count('ok')).toBe(1);
    const again = await settle(time, [put(1)]);
    expect(again.count('ConditionalCheckFailedException')).toBe(1);
    const next = await settle(time, [put(2, 1)]);
    expect(next.count('ok')).toBe(1);
    const stale = await settle(time, [put(3, 1)]);
    expect(stale.count('ConditionalCheckFailedException')).toBe(1);
    const invalid = await settle(time, [
      doc.send(
        new GetCommand({
          TableName: 'T',
          Key: { pk: 'VIEW#0' },
          ExpressionAttributeNames: { '#unused': 'x' },
        }),
      ),
      doc.send(
        new UpdateCommand({
          TableName: 'T',
          Key: { pk: 'VIEW#0' },
          UpdateExpression: 'SET status = :s',
          ExpressionAttributeValues: { ':s': 'active' },
        }),
      ),
    ]);
    expect(invalid.count('ValidationException')).toBe(2);
    const updated = await settle(time, [
      doc.send(
        new UpdateCommand({
          TableName: 'T',
          Key: { pk: 'VIEW#0' },
          UpdateExpression: 'SET #s = :s, version = version + :one',
          ConditionExpression: 'attribute_exists(pk) AND version = :two',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'draining', ':one': 1, ':two': 2 },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    ]);
    expect((updated.results[0] as PromiseFulfilledResult<{ Attributes: unknown }>).value.Attributes).toEqual({
      pk: 'VIEW#0',
      version: 3,
      status: 'draining',
    });
  });

  it('queries one partition in sort order with Limit pages (the real registry adapter follows them)', async () => {
    const { time, doc } = setup();
    const registry = new DynamoDbServerRegistry(doc, 'R', { pageSize: 2, clock: time });
    const ids = Array.from({ length: 40 }, (_, i) => `gpu-${i}`);
    await settle(
      time,
      ids.map((id) => registry.put({ id, baseUrl: `http://${id}:8000`, capacity: 36, status: 'active' })),
    );
    const listing = registry.listAll();
    await time.run(time.now() + 5_000);
    expect((await listing).map((s) => s.id)).toEqual([...ids].sort());
    const page = await settle(time, [
      doc.send(
        new QueryCommand({
          TableName: 'R',
          KeyConditionExpression: '#b = :b',
          ExpressionAttributeNames: { '#b': 'bucket' },
          ExpressionAttributeValues: { ':b': `BUCKET#${bucketOf('gpu-0')}` },
          ScanIndexForward: false,
          Limit: 1,
        }),
      ),
    ]);
    const output = (
      page.results[0] as PromiseFulfilledResult<{ Items: { id: string }[]; LastEvaluatedKey?: unknown }>
    ).value;
    expect(output.Items).toHaveLength(1);
    expect(output.LastEvaluatedKey).toBeDefined();
  });

  it('injects a fault window on one table: Puts fail, or hang until the caller aborts', async () => {
    const { time, model, doc } = setup();
    const t0 = time.now();
    model.addFault({ table: 'T', command: 'PutCommand', from: t0, to: t0 + 1_000, mode: 'throw' });
    model.addFault({ table: 'T', command: 'PutCommand', from: t0 + 1_000, to: t0 + 2_000, mode: 'hang' });
    const failed = await settle(time, [doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'a' } }))]);
    expect(failed.count('InternalServerError')).toBe(1);
    const read = await settle(time, [doc.send(new GetCommand({ TableName: 'T', Key: { pk: 'a' } }))]);
    expect(read.count('ok')).toBe(1);
    await time.run(t0 + 1_000);
    const deadline = time.timeoutSignal(300);
    const hung = (doc as DynamoDBDocumentClient).send(new PutCommand({ TableName: 'T', Item: { pk: 'a' } }), {
      abortSignal: deadline.signal,
    });
    let settledAt = -1;
    hung.catch(() => {
      settledAt = time.now();
    });
    await time.run(t0 + 1_500);
    expect(settledAt).toBe(t0 + 1_300);
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });
    await time.run(t0 + 2_000);
    const healed = await settle(time, [doc.send(new PutCommand({ TableName: 'T', Item: { pk: 'a' } }))]);
    expect(healed.count('ok')).toBe(1);
  });
});
