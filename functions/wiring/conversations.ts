/**
 * The conversation side of the chat table: conversation items, the erase mark, the turn eraser, and the
 * erase jobs that continue a delete or an erase on the turn-writes queue.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDbConversationRepository,
  DynamoDbErasureMarks,
} from '../../adapters/dynamodb/conversation-repository';
import { DynamoDbTurnEraser } from '../../adapters/dynamodb/turn-eraser';
import { createSqsClient } from '../../adapters/sqs/clients';
import { SqsEraseJobQueue } from '../../adapters/sqs/erase-jobs';
import type { Settings } from '../../settings/settings';
import type { Infrastructure } from './infrastructure';

/** Conversation items and erase marks: what reading functions (list, history, export) need. */
export function createConversationStores(
  settings: Pick<Settings, 'chatTableName'>,
  infrastructure: Pick<Infrastructure, 'documentClient'>,
) {
  const { documentClient } = infrastructure;
  return {
    conversations: new DynamoDbConversationRepository(documentClient, settings.chatTableName),
    marks: new DynamoDbErasureMarks(documentClient, settings.chatTableName),
  };
}

/** The stores plus what deletes: the turn eraser and the erase-job queue (the turn-writes queue). */
export function createConversationErasure(
  settings: Pick<Settings, 'chatTableName' | 'turnWritesQueueUrl'>,
  infrastructure: Infrastructure,
  sqs: SQSClient = createSqsClient(),
) {
  const { documentClient, clock, log } = infrastructure;
  return {
    ...createConversationStores(settings, infrastructure),
    eraser: new DynamoDbTurnEraser(documentClient, settings.chatTableName, () => clock.now()),
    eraseJobs: new SqsEraseJobQueue(sqs, settings.turnWritesQueueUrl),
    clock,
    log,
  };
}
