/**
 * In-process SQS (local-aws-sqs) with the queues of lib/resources.ts: each dead-letter queue first,
 * then its main queue with the RedrivePolicy and VisibilityTimeout of the definition.
 * Queue name = definition id. State is in memory only (messages do not survive a restart).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer, type ISqsServerOptions } from 'local-aws-sqs';
import { type QueueDefinition, queues as queueDefinitions } from '../../lib/resources';

export const LOCAL_SQS_ACCOUNT_ID = '123456789012';
export const LOCAL_SQS_REGION = 'us-east-1';

export interface SqsOptions {
  readonly host?: string;
  readonly port?: number;
  readonly queues?: readonly QueueDefinition[];
}

export interface LocalSqs {
  readonly endpoint: string;
  /** Queue URL by definition id, dead-letter queues included (by their own id). */
  readonly queueUrls: Record<string, string>;
  close(): Promise<void>;
}

const DAY_SECONDS = 24 * 60 * 60;

function queueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_SQS_REGION}:${LOCAL_SQS_ACCOUNT_ID}:${name}`;
}

export async function startSqs(options: SqsOptions = {}): Promise<LocalSqs> {
  const host = options.host ?? '127.0.0.1';
  const definitions = options.queues ?? queueDefinitions;
  type InitialQueue = NonNullable<ISqsServerOptions['queues']>[number];
  const initial = definitions.flatMap((queue): InitialQueue[] => [
    {
      QueueName: queue.deadLetter.id,
      Attributes: { MessageRetentionPeriod: queue.deadLetter.retentionDays * DAY_SECONDS },
    },
    {
      QueueName: queue.id,
      Attributes: {
        VisibilityTimeout: queue.visibilityTimeoutSeconds,
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: queueArn(queue.deadLetter.id),
          maxReceiveCount: queue.deadLetter.maxReceiveCount,
        }),
      },
    },
  ]);
  const server: Server = await createSqsServer({
    port: options.port ?? 0,
    hostname: host,
    region: LOCAL_SQS_REGION,
    accountId: LOCAL_SQS_ACCOUNT_ID,
    emulateQueueCreationLifecycle: false,
    queues: initial,
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const queueUrls: Record<string, string> = {};
  for (const queue of initial)
    queueUrls[queue.QueueName] = `${endpoint}/${LOCAL_SQS_ACCOUNT_ID}/${queue.QueueName}`;
  return {
    endpoint,
    queueUrls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
