import middy from '@middy/core';
import { DynamoDbStreamLeases } from '../adapters/dynamodb/stream-leases';
import { createSqsClient } from '../adapters/sqs/clients';
import { SqsStopInboxSweeper, STOP_INBOX_ROTATE_MS } from '../adapters/sqs/stop-inbox';
import { backgroundFunctions } from '../lib/resources';
import { sweepInterruptedTurns, sweepStopInboxes } from '../use-cases/sweep-turns';
import { logger, withLogging } from './commons/logger';
import { recordInterrupted } from './commons/metrics';
import { settings } from './settings';
import { awsInfrastructure } from './wiring/infrastructure';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const deps = {
  ...createTurnStores(settings, infrastructure),
  leases: new DynamoDbStreamLeases(infrastructure.documentClient, settings.chatTableName),
  clock: infrastructure.clock,
  log: infrastructure.log,
};

/** Twice the schedule: a run that is late, or fails, leaves its windows to the next one. */
const schedule = backgroundFunctions.find((definition) => definition.id === 'SweepTurns')?.trigger;
const lookBackMs = 2 * (schedule?.kind === 'schedule' ? schedule.everyMinutes : 5) * 60_000;

const inboxes = new SqsStopInboxSweeper(createSqsClient(), settings.stopInboxPrefix);

/** Scheduled: marks dead turns interrupted, and deletes stop inboxes no container can still be using. */
export async function sweepTurns(): Promise<{ marked: number; inboxesDeleted: number }> {
  const marked = await sweepInterruptedTurns(deps, lookBackMs);
  const inboxesDeleted = await sweepStopInboxes({ ...deps, inboxes }, STOP_INBOX_ROTATE_MS);
  logger.info('sweep done', { marked, inboxes_deleted: inboxesDeleted });
  recordInterrupted(marked);
  return { marked, inboxesDeleted };
}

export const handler = middy().use(withLogging()).handler(sweepTurns);
