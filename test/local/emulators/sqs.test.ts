import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type QueueAttributeName,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { turnWritesQueue } from '../../../lib/resources';
import {
  LOCAL_SQS_ACCOUNT_ID,
  LOCAL_SQS_REGION,
  type LocalSqs,
  startSqs,
} from '../../../local/emulators/sqs';

let sqs: LocalSqs;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqs({ host: '127.0.0.1' });
  client = new SQSClient({
    region: 'us-east-1',
    endpoint: sqs.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  client?.destroy();
  await sqs?.close();
});

function url(id: string): string {
  const queueUrl = sqs.queueUrls[id];
  if (queueUrl === undefined) throw new Error(`no queue ${id}`);
  return queueUrl;
}

describe('startSqs', () => {
  it('creates each queue of lib/resources.ts with its redrive policy and visibility timeout', async () => {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url(turnWritesQueue.id), AttributeNames: ['All'] }),
    );

    expect(Attributes?.VisibilityTimeout).toBe(String(turnWritesQueue.visibilityTimeoutSeconds));
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toMatchObject({
      maxReceiveCount: turnWritesQueue.deadLetter.maxReceiveCount,
    });
    expect(url(turnWritesQueue.deadLetter.id)).toContain(turnWritesQueue.deadLetter.id);
  });

  it('moves a message received maxReceiveCount times without being deleted to the DLQ', async () => {
    // Prepare
    const { maxReceiveCount } = turnWritesQueue.deadLetter;
    await client.send(new SendMessageCommand({ QueueUrl: url(turnWritesQueue.id), MessageBody: 'poison' }));

    // Act: receive it and never delete it; VisibilityTimeout 0 makes it visible again at once.
    const receiveCounts: string[] = [];
    for (let attempt = 0; attempt < maxReceiveCount; attempt += 1) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: url(turnWritesQueue.id),
          VisibilityTimeout: 0,
          WaitTimeSeconds: 0,
          // local-aws-sqs ignores MessageSystemAttributeNames (NOTES.md); the deprecated field works.
          AttributeNames: ['ApproximateReceiveCount' as QueueAttributeName],
        }),
      );
      receiveCounts.push(Messages?.[0]?.Attributes?.ApproximateReceiveCount ?? 'none');
    }
    const afterLimit = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: url(turnWritesQueue.id),
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
    const dead = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url(turnWritesQueue.deadLetter.id), WaitTimeSeconds: 0 }),
    );

    // Assess
    expect(receiveCounts).toEqual(Array.from({ length: maxReceiveCount }, (_, i) => String(i + 1)));
    expect(afterLimit.Messages ?? []).toHaveLength(0);
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['poison']);
  });
});

/** One emulator on a dataDir, with its own client. */
interface Running {
  readonly sqs: LocalSqs;
  readonly client: SQSClient;
  url(id: string): string;
  stop(): Promise<void>;
}

const dataDirs: string[] = [];
const running = new Set<Running>();

async function freshDataDir(): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sqs-journal-'));
  dataDirs.push(dataDir);
  return dataDir;
}

async function startOn(dataDir: string): Promise<Running> {
  const local = await startSqs({ host: '127.0.0.1', dataDir });
  const localClient = new SQSClient({
    region: 'us-east-1',
    endpoint: local.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const handle: Running = {
    sqs: local,
    client: localClient,
    url: (id) => {
      const queueUrl = local.queueUrls[id];
      if (queueUrl === undefined) throw new Error(`no queue ${id}`);
      return queueUrl;
    },
    stop: async () => {
      running.delete(handle);
      localClient.destroy();
      await local.close();
    },
  };
  running.add(handle);
  return handle;
}

/** Everything visible in the queue now (up to 10), left in flight (not deleted). */
async function receiveAll(on: Running, id: string): Promise<Message[]> {
  const { Messages } = await on.client.send(
    new ReceiveMessageCommand({
      QueueUrl: on.url(id),
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages ?? [];
}

const bodies = (messages: readonly Message[]) => messages.map((message) => message.Body).sort();

async function journalLines(dataDir: string): Promise<unknown[]> {
  const text = await readFile(join(dataDir, 'sqs', 'journal.ndjson'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line): unknown => JSON.parse(line));
}

afterEach(async () => {
  for (const handle of [...running]) await handle.stop();
  for (const dataDir of dataDirs.splice(0)) await rm(dataDir, { recursive: true, force: true });
});

describe('startSqs with a dataDir', () => {
  const queue = turnWritesQueue.id;
  const deadLetterQueue = turnWritesQueue.deadLetter.id;

  it('gives back, after a restart, a message that was sent and never deleted', async () => {
    // Prepare
    const dataDir = await freshDataDir();
    const first = await startOn(dataDir);
    const sent = await first.client.send(
      new SendMessageCommand({
        QueueUrl: first.url(queue),
        MessageBody: '{"turn":"t1"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'start' } },
      }),
    );
    const [inFlight] = await receiveAll(first, queue);

    // Act
    await first.stop();
    const second = await startOn(dataDir);
    const again = await receiveAll(second, queue);

    // Assess
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"turn":"t1"}',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'start' } },
    });
    expect(again[0]?.Attributes?.SentTimestamp).toBe(inFlight?.Attributes?.SentTimestamp);
  });

  it('keeps a message whose SendMessage answered just before the process was SIGKILLed', async () => {
    // Prepare: a child process sends one message and kills itself the moment the answer arrives.
    const dataDir = await freshDataDir();
    const moduleUrl = new URL('../../../local/emulators/sqs.ts', import.meta.url).href;
    const script = `
      const { startSqs } = await import(${JSON.stringify(moduleUrl)});
      const sqs = await startSqs({ dataDir: process.env.SQS_DATA_DIR });
      const response = await fetch(sqs.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
        body: JSON.stringify({ QueueUrl: sqs.queueUrls[${JSON.stringify(queue)}], MessageBody: 'parked' }),
      });
      process.stdout.write(await response.text());
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../../..', import.meta.url),
      env: { ...process.env, SQS_DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );

    // Act
    const restarted = await startOn(dataDir);
    const messages = await receiveAll(restarted, queue);

    // Assess
    expect(signal).toBe('SIGKILL');
    const answered: unknown = JSON.parse(output);
    const answeredId =
      typeof answered === 'object' && answered !== null && 'MessageId' in answered
        ? answered.MessageId
        : undefined;
    expect(answeredId).toEqual(expect.any(String));
    expect(messages.map((message) => [message.MessageId, message.Body])).toEqual([[answeredId, 'parked']]);
  });

  it('does not give back a deleted message', async () => {
    // Prepare
    const dataDir = await freshDataDir();
    const first = await startOn(dataDir);
    for (const body of ['done', 'pending']) {
      await first.client.send(new SendMessageCommand({ QueueUrl: first.url(queue), MessageBody: body }));
    }
    const received = await receiveAll(first, queue);
    const done = received.find((message) => message.Body === 'done');
    await first.client.send(
      new DeleteMessageCommand({ QueueUrl: first.url(queue), ReceiptHandle: done?.ReceiptHandle }),
    );

    // Act
    await first.stop();
    const second = await startOn(dataDir);

    // Assess
    expect(bodies(received)).toEqual(['done', 'pending']);
    expect(bodies(await receiveAll(second, queue))).toEqual(['pending']);
  });

  it('journals batch sends and batch deletes, and compacts the journal at start', async () => {
    // Prepare
    const dataDir = await freshDataDir();
    const first = await startOn(dataDir);
    await first.client.send(
      new SendMessageBatchCommand({
        QueueUrl: first.url(queue),
        Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    const received = await receiveAll(first, queue);
    const deleted = await first.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: first.url(queue),
        Entries: received
          .filter((message) => message.Body !== 'b')
          .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );

    // Act
    await first.stop();
    const linesBefore = await journalLines(dataDir);
    const second = await startOn(dataDir);

    // Assess
    expect(deleted.Successful ?? []).toHaveLength(2);
    expect(linesBefore).toHaveLength(5); // 3 sends, 2 deletes
    expect(bodies(await receiveAll(second, queue))).toEqual(['b']);
    expect(await journalLines(dataDir)).toEqual([
      expect.objectContaining({ op: 'send', queue, message: { MessageBody: 'b' } }),
    ]);
  });

  it('still moves a poison message to the DLQ, keeps it there across a restart, and redrives it back', async () => {
    // Prepare: receive it maxReceiveCount times without deleting it.
    const dataDir = await freshDataDir();
    const first = await startOn(dataDir);
    await first.client.send(new SendMessageCommand({ QueueUrl: first.url(queue), MessageBody: 'poison' }));
    for (let attempt = 0; attempt < turnWritesQueue.deadLetter.maxReceiveCount; attempt += 1) {
      await first.client.send(
        new ReceiveMessageCommand({ QueueUrl: first.url(queue), VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
      );
    }
    const movedBeforeRestart = await receiveAll(first, deadLetterQueue);
    await first.stop();

    // Act 1: restart.
    const second = await startOn(dataDir);
    const mainAfterRestart = await receiveAll(second, queue);
    const dead = await second.client.send(
      new ReceiveMessageCommand({
        QueueUrl: second.url(deadLetterQueue),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 0,
      }),
    );

    // Act 2: redrive from the DLQ to its source queue (the move task works once a second), then restart.
    await second.client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: `arn:aws:sqs:${LOCAL_SQS_REGION}:${LOCAL_SQS_ACCOUNT_ID}:${deadLetterQueue}`,
      }),
    );
    let redriven: Message[] = [];
    for (let wait = 0; wait < 50 && redriven.length === 0; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      redriven = await receiveAll(second, queue);
    }
    await second.stop();
    const third = await startOn(dataDir);

    // Assess
    expect(bodies(movedBeforeRestart)).toEqual(['poison']);
    expect(mainAfterRestart).toHaveLength(0);
    expect(bodies(dead.Messages ?? [])).toEqual(['poison']);
    expect(bodies(redriven)).toEqual(['poison']);
    expect(bodies(await receiveAll(third, queue))).toEqual(['poison']);
    expect(await receiveAll(third, deadLetterQueue)).toHaveLength(0);
  });

  it('ignores a last journal line cut short by a crash', async () => {
    // Prepare
    const dataDir = await freshDataDir();
    await mkdir(join(dataDir, 'sqs'), { recursive: true });
    const whole = { op: 'send', queue, id: 'm-1', at: Date.now(), message: { MessageBody: 'whole' } };
    await writeFile(join(dataDir, 'sqs', 'journal.ndjson'), `${JSON.stringify(whole)}\n{"op":"send","que`);

    // Act
    const started = await startOn(dataDir);

    // Assess
    expect((await receiveAll(started, queue)).map((message) => [message.MessageId, message.Body])).toEqual([
      ['m-1', 'whole'],
    ]);
    expect(await journalLines(dataDir)).toEqual([whole]);
  });
});
