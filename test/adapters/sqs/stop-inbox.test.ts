/** The stop inbox on the SQS emulator: real queues, real long polls. */
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deleteStopInboxesOlderThan,
  SqsStopDelivery,
  SqsStopInbox,
  STOP_INBOX_ROTATE_MS,
} from '../../../adapters/sqs/stop-inbox';
import { type LocalSqs, startSqs } from '../../../local/emulators/sqs';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqs();
  client = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await sqs?.close();
});

const inboxes = async (prefix: string) =>
  (await client.send(new ListQueuesCommand({ QueueNamePrefix: prefix }))).QueueUrls ?? [];

describe('stop inbox', () => {
  it('delivers a stop to the listening turn at once, and skips a stale stop meant for an earlier turn', async () => {
    const prefix = 'deliver-';
    const inbox = new SqsStopInbox(client, { prefix, clock: { now: () => Date.now() }, log });
    const address = await inbox.address();
    expect(address).toBeDefined();
    expect(await inbox.address()).toBe(address); // one inbox per container
    const delivery = new SqsStopDelivery(client, prefix);
    await delivery.deliver(address ?? '', 'earlier-turn');

    const listening = inbox.listen('this-turn', new AbortController().signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sentAt = Date.now();
    await delivery.deliver(address ?? '', 'this-turn');
    expect(await listening).toBe('stopped');
    expect(Date.now() - sentAt).toBeLessThan(1000);
  });

  it('wakes each of several turns listening in one process with its own stop only', async () => {
    const prefix = 'shared-';
    const inbox = new SqsStopInbox(client, { prefix, clock: { now: () => Date.now() }, log });
    const address = (await inbox.address()) ?? '';
    const delivery = new SqsStopDelivery(client, prefix);
    const a = new AbortController();
    const b = new AbortController();
    const c = new AbortController();
    const outcomes = Promise.all([
      inbox.listen('turn-a', a.signal),
      inbox.listen('turn-b', b.signal),
      inbox.listen('turn-c', c.signal),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await delivery.deliver(address, 'turn-b');
    await delivery.deliver(address, 'turn-a');
    await new Promise((resolve) => setTimeout(resolve, 500));
    c.abort();
    expect(await outcomes).toEqual(['stopped', 'stopped', 'ended']);
  });

  it("still delivers the next turn's stop at once after an earlier turn ended mid-poll", async () => {
    const prefix = 'next-';
    const inbox = new SqsStopInbox(client, { prefix, clock: { now: () => Date.now() }, log });
    const address = (await inbox.address()) ?? '';
    const delivery = new SqsStopDelivery(client, prefix);
    for (const turn of ['turn-1', 'turn-2', 'turn-3']) {
      const ended = new AbortController();
      const earlier = inbox.listen(`${turn}-earlier`, ended.signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      ended.abort();
      expect(await earlier).toBe('ended');
      const listening = inbox.listen(turn, new AbortController().signal);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sentAt = Date.now();
      await delivery.deliver(address, turn);
      expect(await listening).toBe('stopped');
      expect(Date.now() - sentAt).toBeLessThan(1000);
    }
  });

  it('ends the wait when the turn ends, without waiting out the long poll', async () => {
    const inbox = new SqsStopInbox(client, { prefix: 'ends-', clock: { now: () => Date.now() }, log });
    await inbox.address();
    const done = new AbortController();
    const listening = inbox.listen('t', done.signal);
    const abortedAt = Date.now();
    setTimeout(() => done.abort(), 100);
    expect(await listening).toBe('ended');
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });

  it('is unavailable (the turn polls the flag) when SQS cannot be reached', async () => {
    const closed = new SQSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const inbox = new SqsStopInbox(closed, { prefix: 'down-', clock: { now: () => Date.now() }, log });
    expect(await inbox.address()).toBeUndefined();
    expect(await inbox.listen('t', new AbortController().signal)).toBe('unavailable');
    closed.destroy();
  });

  it('refuses to deliver to a queue that is not an inbox of this deployment', async () => {
    const delivery = new SqsStopDelivery(client, 'mine-');
    await expect(delivery.deliver(sqs.queueUrls.TurnWritesQueue ?? '', 'x')).rejects.toThrow(/stop inbox/);
  });

  it('rotates an inbox after an hour, and the sweeper deletes only inboxes past two hours', async () => {
    const prefix = 'rotate-';
    let now = Date.now() - 3 * STOP_INBOX_ROTATE_MS;
    const inbox = new SqsStopInbox(client, { prefix, clock: { now: () => now }, log });
    const first = await inbox.address();
    now += STOP_INBOX_ROTATE_MS + 1;
    const second = await inbox.address();
    expect(second).not.toBe(first);
    const old = new SqsStopInbox(client, {
      prefix,
      clock: { now: () => Date.now() - 3 * STOP_INBOX_ROTATE_MS },
      log,
    });
    const dead = await old.address();
    const fresh = await new SqsStopInbox(client, { prefix, clock: { now: () => Date.now() }, log }).address();

    const deleted = await deleteStopInboxesOlderThan(client, prefix, Date.now(), 2 * STOP_INBOX_ROTATE_MS);

    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await inboxes(prefix);
    expect(left).toContain(fresh);
    expect(left).not.toContain(dead);
    expect(left).not.toContain(first);
  });
});
