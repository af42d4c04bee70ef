import middy from '@middy/core';
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

/** Scheduled: marks turns still in_progress past the longest possible stream as interrupted. */
export async function sweepTurns(): Promise<{ marked: number }> {
  const marked = await sweepInterruptedTurns(deps, interruptedAfterMs);
  logger.info('sweep done', { marked });
  recordInterrupted(marked);
  return { marked };
}

export const handler = middy().use(withLogging()).handler(sweepTurns);
