import {
  GetQueueAttributesCommand,
  type QueueAttributeName,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { turnWritesQueue } from '../../../lib/resources';
import { type LocalSqs, startSqs } from '../../../local/emulators/sqs';

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
