/**
 * Erase jobs on the turn-writes queue: what is left to delete of a deleted conversation or an erased
 * history. They share the persister's queue (and its DLQ, alarm and redrive) rather than add a queue and
 * a function: a job is rare and small, `{"erase":{userId, conversationId?, before}}`. Both ends are here.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EraseJobQueue, EraseScope } from '../../domain/ports';

export function encodeEraseJob(scope: EraseScope): string {
  return JSON.stringify({
    erase: {
      userId: scope.userId,
      before: scope.before,
      ...(scope.conversationId === undefined ? {} : { conversationId: scope.conversationId }),
    },
  });
}

/** The job a message body holds, undefined when it is not an erase job (a parked turn write). */
export function parseEraseJob(body: string): EraseScope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('erase' in parsed)) return undefined;
  const job = (parsed as { erase: unknown }).erase;
  if (typeof job !== 'object' || job === null) throw new Error('Erase job is malformed');
  const { userId, before, conversationId } = job as Record<string, unknown>;
  if (
    typeof userId !== 'string' ||
    typeof before !== 'string' ||
    !Number.isFinite(Date.parse(before)) ||
    (conversationId !== undefined && typeof conversationId !== 'string')
  ) {
    throw new Error('Erase job is malformed');
  }
  return { userId, before, ...(conversationId === undefined ? {} : { conversationId }) };
}

export class SqsEraseJobQueue implements EraseJobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(scope: EraseScope): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeEraseJob(scope),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'erase-job' } },
      }),
    );
  }
}
