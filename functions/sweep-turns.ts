import middy from '@middy/core';
import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import { systemClock } from '../domain/ports';
import { chatTable } from '../lib/resources';
import { sweepInterruptedTurns } from '../use-cases/sweep-turns';
import { getNumberFromEnv } from './commons/env';
import { logger } from './commons/logger';
import { recordInterrupted } from './commons/metrics';
import { withLogging } from './commons/middleware';

const repository = new DynamoDbTurnRepository(documentClient, tableNameFromEnv(chatTable));
/** Longer than the chat function's Lambda timeout (300 s): only turns whose process died match. */
const interruptedAfterMs = getNumberFromEnv('INTERRUPTED_AFTER_SECONDS', 360) * 1000;

export async function sweepTurns(): Promise<{ marked: number }> {
  const marked = await sweepInterruptedTurns(
    { repository, clock: systemClock, log: logger },
    interruptedAfterMs,
  );
  logger.info('sweep done', { marked });
  recordInterrupted(marked);
  return { marked };
}

export const handler = middy().use(withLogging()).handler(sweepTurns);
