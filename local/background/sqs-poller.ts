/**
 * The SQS event source mapping of the persister: a poller that invokes the handler with SQS events and
 * deletes what the batch response does not report as failed.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsClient } from '../../adapters/sqs/clients';
import type { FunctionTrigger } from '../../lib/resources';
import { createLambdaContext } from '../gateway/lambda-context';
import { loadHandler } from '../handlers';
import { backgroundFunction } from './definitions';
import type { BackgroundTask } from './task';

/** Polls a queue the way Lambda's event source mapping does, with partial batch responses. */
export const persisterTask: BackgroundTask = {
  name: 'sqs-poller',
  async start(context) {
    const definition = backgroundFunction('PersistTurns');
    const trigger: FunctionTrigger = definition.trigger;
    if (trigger.kind !== 'queue') throw new Error('PersistTurns must be queue-triggered');
    const queueUrl = context.queueUrls[trigger.queue];
    if (!queueUrl) throw new Error(`No local queue ${trigger.queue}`);
    const handler = (await loadHandler(definition.entry)) as (
      event: SQSEvent,
      lambdaContext: unknown,
    ) => Promise<SQSBatchResponse>;
    const sqs = createSqsClient({ connectTimeoutMs: 1_000, requestTimeoutMs: 5_000 });
    const controller = new AbortController();

    const pollOnce = async (waitSeconds: number): Promise<number> => {
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: trigger.batchSize,
          // local-aws-sqs waits the whole poll unless the batch fills: keep it short.
          WaitTimeSeconds: waitSeconds,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
        { abortSignal: controller.signal },
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) return 0;
      const event: SQSEvent = {
        Records: messages.map((message) => ({
          messageId: message.MessageId ?? randomUUID(),
          receiptHandle: message.ReceiptHandle ?? '',
          body: message.Body ?? '',
          attributes: {
            ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
            SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
            SenderId: 'local',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: message.MD5OfBody ?? '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${trigger.queue}`,
          awsRegion: 'us-east-1',
        })),
      };
      let failed = new Set(messages.map((message) => message.MessageId));
      try {
        const response = await handler(event, createLambdaContext(definition));
        failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      } catch (error) {
        context.log({ level: 'error', msg: 'persister_failed', error: String(error) });
      }
      const done = messages.filter((message) => !failed.has(message.MessageId));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((message, index) => ({
              Id: String(index),
              ReceiptHandle: message.ReceiptHandle,
            })),
          }),
        );
      }
      return messages.length;
    };

    // Writes parked before a restart (the queue is journaled to disk) are applied before start-up goes on,
    // so the start-up sweep that follows sees the turns they create.
    let drained = 0;
    for (let batch = await pollOnce(0); batch > 0; batch = await pollOnce(0)) drained += batch;
    if (drained > 0) context.log({ level: 'info', msg: 'startup_drain', applied: drained });

    const loop = (async () => {
      while (!controller.signal.aborted) {
        try {
          await pollOnce(1);
        } catch (error) {
          if (controller.signal.aborted) break;
          context.log({ level: 'warn', msg: 'sqs_poll_failed', error: String(error) });
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    })();
    return async () => {
      controller.abort();
      await loop;
      sqs.destroy();
    };
  },
};
