import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { PendingTurnWrite, TurnWriteQueue } from '../../domain/ports';
import { encodePendingWrite } from './pending-write-message';

/** Parks a final turn write on SQS; the persister applies it idempotently (finishTurn is conditional). */
export class SqsTurnWriteQueue implements TurnWriteQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(write: PendingTurnWrite): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodePendingWrite(write),
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'turn-final-write' } },
      }),
    );
  }
}
