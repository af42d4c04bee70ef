import middy from '@middy/core';
import { createSqsClient } from '../adapters/sqs/clients';
import { SqsStopInboxSweeper, STOP_INBOX_ROTATE_MS } from '../adapters/sqs/stop-inbox';
import { sweepInterruptedTurns, sweepStopInboxes } from '../use-cases/sweep-turns';
import { logger, withLogging } from './commons/logger';
import { recordInterrupted } from './commons/metrics';
import { settings } from './settings';
import { awsInfrastructure } from './wiring/infrastructure';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const deps = {
  ...createTurnStores(settings, infrastructure),
  clock: infrastructure.clock,
  log: infrastructure.log,
};
/** Longer than the chat function's Lambda timeout: only turns whose process died match. */
const interruptedAfterMs = settings.interruptedAfterSeconds * 1000;

const inboxes = new SqsStopInboxSweeper(createSqsClient(), settings.stopInboxPrefix);

/** Scheduled: marks dead turns interrupted, and deletes stop inboxes no container can still be using. */
export async function sweepTurns(): Promise<{ marked: number; inboxesDeleted: number }> {
  const marked = await sweepInterruptedTurns(deps, interruptedAfterMs);
  const inboxesDeleted = await sweepStopInboxes({ ...deps, inboxes }, STOP_INBOX_ROTATE_MS);
  logger.info('sweep done', { marked, inboxes_deleted: inboxesDeleted });
  recordInterrupted(marked);
  return { marked, inboxesDeleted };
}

export const handler = middy().use(withLogging()).handler(sweepTurns);
