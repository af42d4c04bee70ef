/**
 * The local stand-ins for what AWS runs around the handlers:
 * - the heartbeat (EventBridge rule → a function that loops every HEARTBEAT_INTERVAL_SECONDS), here one
 *   continuous loop of the same code;
 * - the SQS event source mapping of the persister: a poller that invokes the handler with SQS events
 *   and deletes what the batch response does not report as failed;
 * - the sweeper: once at start-up for turns left in_progress by a previous run of this process (all
 *   of them are dead: nothing else streams here), then on its schedule like on AWS.
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createSqsClient } from '../adapters/sqs/clients';
import { backgroundFunctions, chatTable, type FunctionTrigger } from '../lib/resources';
import { createLambdaContext } from './gateway';
import { loadHandler } from './handlers';
import type { BackgroundContext, BackgroundTask, StopFunction } from './stack';

const definitionOf = (id: (typeof backgroundFunctions)[number]['id']) => {
  const definition = backgroundFunctions.find((candidate) => candidate.id === id);
  if (!definition) throw new Error(`No background function ${id} in lib/resources.ts`);
  return definition;
};

/** One continuous loop per heartbeat shard (on AWS: one scheduled invocation per shard and minute). */
export const heartbeatTask: BackgroundTask = {
  name: 'heartbeat',
  async start(context) {
    const { runHeartbeat, heartbeatDepsFromEnv } = await import('../functions/run-heartbeat');
    const { fleetShardsFromEnv } = await import('../functions/run-heartbeat');
    const controller = new AbortController();
    const loops = Array.from({ length: fleetShardsFromEnv() }, (_, shard) =>
      runHeartbeat({ ...heartbeatDepsFromEnv(shard), signal: controller.signal }, () => false).catch(
        (error: unknown) =>
          context.log({ level: 'error', msg: 'heartbeat_stopped', shard, error: String(error) }),
      ),
    );
    return async () => {
      controller.abort();
      await Promise.all(loops);
    };
  },
};

/** Polls a queue the way Lambda's event source mapping does, with partial batch responses. */
export const persisterTask: BackgroundTask = {
  name: 'sqs-poller',
  async start(context) {
    const definition = definitionOf('PersistTurns');
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

export const sweeperTask: BackgroundTask = {
  name: 'sweeper',
  async start(context) {
    const definition = definitionOf('SweepTurns');
    const trigger: FunctionTrigger = definition.trigger;
    const [{ sweepInterruptedTurns }, { DynamoDbTurnRepository }, { documentClient }] = await Promise.all([
      import('../domain/turn-lifecycle'),
      import('../adapters/dynamodb/turn-repository'),
      import('../adapters/dynamodb/clients'),
    ]);
    const repository = new DynamoDbTurnRepository(
      documentClient,
      context.env[chatTable.envVar] ?? chatTable.id,
    );
    const clock = { now: () => Date.now() };
    const log = {
      info: (msg: string, ...extra: Record<string, unknown>[]) =>
        context.log({ level: 'info', msg, ...Object.assign({}, ...extra) }),
      warn: (msg: string, ...extra: Record<string, unknown>[]) =>
        context.log({ level: 'warn', msg, ...Object.assign({}, ...extra) }),
      error: (msg: string, ...extra: Record<string, unknown>[]) =>
        context.log({ level: 'error', msg, ...Object.assign({}, ...extra) }),
    };
    // Everything in_progress from before this stack started belongs to a process that is gone. Turns begun
    // since (the gateway already listens) are live: the cut-off is the stack's start, not this moment.
    const marked = await sweepInterruptedTurns({ repository, clock, log }, Date.now() - context.startedAt);
    context.log({ level: 'info', msg: 'startup_sweep', marked });

    const handler = (await loadHandler(definition.entry)) as (
      event: unknown,
      lambdaContext: unknown,
    ) => Promise<unknown>;
    const everyMs = trigger.kind === 'schedule' ? trigger.everyMinutes * 60_000 : 300_000;
    const timer = setInterval(() => {
      handler(
        { source: 'aws.events', 'detail-type': 'Scheduled Event' },
        createLambdaContext(definition),
      ).catch((error: unknown) =>
        context.log({ level: 'error', msg: 'sweeper_failed', error: String(error) }),
      );
    }, everyMs);
    timer.unref();
    const stop: StopFunction = () => clearInterval(timer);
    return stop;
  },
};

export const localBackgroundTasks: readonly BackgroundTask[] = [heartbeatTask, persisterTask, sweeperTask];

export type { BackgroundContext };
