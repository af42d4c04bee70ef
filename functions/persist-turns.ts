import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseEraseJob } from '../adapters/sqs/erase-jobs';
import { parsePendingWrite } from '../adapters/sqs/pending-write-message';
import { runEraseJob } from '../use-cases/erase-history';
import { applyPendingWrite } from '../use-cases/persist-parked-write';
import { logger, withLogging } from './commons/logger';
import { settings } from './settings';
import { createConversationErasure } from './wiring/conversations';
import { awsInfrastructure } from './wiring/infrastructure';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const { repository } = createTurnStores(settings, infrastructure);
const erasure = createConversationErasure(settings, infrastructure);
const processor = new BatchProcessor(EventType.SQS);

async function persistRecord(record: SQSRecord): Promise<void> {
  const job = parseEraseJob(record.body);
  if (job) {
    const result = await runEraseJob(erasure, job);
    logger.info('erase job ran', {
      scope: job.conversationId === undefined ? 'history' : 'conversation',
      deleted: result.deleted,
      done: result.done,
      receive_count: record.attributes.ApproximateReceiveCount,
    });
    return;
  }
  const write = parsePendingWrite(record.body);
  const applied = await applyPendingWrite(repository, write);
  logger.info('parked turn write applied', {
    message_id: write.turn.id,
    status: write.outcome?.status ?? 'in_progress',
    applied,
    receive_count: record.attributes.ApproximateReceiveCount,
  });
}

/**
 * SQS event source with partial batch responses: a record that fails (the table still throttling) is
 * retried alone; after maxReceiveCount receives it lands in the DLQ, which has an alarm. The queue also
 * carries erase jobs (adapters/sqs/erase-jobs.ts): a run deletes for a few seconds, then re-queues the rest.
 */
export async function persistTurns(event: SQSEvent): Promise<SQSBatchResponse> {
  return processPartialResponse(event, persistRecord, processor);
}

export const handler = middy<SQSEvent, SQSBatchResponse>().use(withLogging()).handler(persistTurns);
