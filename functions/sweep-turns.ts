import middy from '@middy/core';
import { createSqsClient } from '../adapters/sqs/clients';
import { deleteStopInboxesOlderThan, STOP_INBOX_ROTATE_MS } from '../adapters/sqs/stop-inbox';
import { errorName } from '../domain/errors';
import { sweepInterruptedTurns } from '../use-cases/sweep-turns';
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

const sqs = createSqsClient();

/**
 * Scheduled: marks turns still in_progress past the longest possible stream as interrupted, and deletes
 * stop inboxes no container can still be using (rotated hourly, so any past two hours are dead).
 */
export async function sweepTurns(): Promise<{ marked: number; inboxesDeleted: number }> {
  const marked = await sweepInterruptedTurns(deps, interruptedAfterMs);
  const inboxesDeleted = await deleteStopInboxesOlderThan(
    sqs,
    settings.stopInboxPrefix,
    infrastructure.clock.now(),
    2 * STOP_INBOX_ROTATE_MS,
  ).catch((error: unknown) => {
    logger.warn('stop inbox sweep failed', { error: errorName(error) });
    return 0;
  });
  logger.info('sweep done', { marked, inboxes_deleted: inboxesDeleted });
  recordInterrupted(marked);
  return { marked, inboxesDeleted };
}

export const handler = middy().use(withLogging()).handler(sweepTurns);
