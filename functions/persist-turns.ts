import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parsePendingWrite } from '../adapters/sqs/pending-write-message';
import { applyPendingWrite } from '../use-cases/persist-parked-write';
import { logger, withLogging } from './commons/logger';
import { settings } from './settings';
import { awsInfrastructure } from './wiring/infrastructure';
import { createTurnStores } from './wiring/turns';

const { repository } = createTurnStores(settings, awsInfrastructure());
const processor = new BatchProcessor(EventType.SQS);

async function persistRecord(record: SQSRecord): Promise<void> {
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
 * retried alone; after maxReceiveCount receives it lands in the DLQ, which has an alarm.
 */
export async function persistTurns(event: SQSEvent): Promise<SQSBatchResponse> {
  return processPartialResponse(event, persistRecord, processor);
}

export const handler = middy<SQSEvent, SQSBatchResponse>().use(withLogging()).handler(persistTurns);
