import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Log } from '../../domain/ports';
import { settings } from '../settings';
import { CompactLogFormatter } from './log-formatter';
import { addLogScopeKeys } from './log-scope';

/** One logger per container. Log ids, sizes and timings; never prompt or answer text. */
export const logger = new Logger({
  serviceName: settings.serviceName,
  logFormatter: new CompactLogFormatter(),
});

/** The logger as the use cases' and adapters' Log port: their keys go to the request's scope. */
export const requestLog: Log = {
  info: (message, ...extra) => logger.info(message, ...extra),
  warn: (message, ...extra) => logger.warn(message, ...extra),
  error: (message, ...extra) => logger.error(message, ...extra),
  addRequestKeys: (keys) => addLogScopeKeys(keys),
};

/**
 * Lambda context on every log line; Powertools' own keys reset per call. A request's keys live in its
 * log scope instead (log-scope.ts): they must outlive the handler when it returns a stream.
 */
export const withLogging = () => injectLambdaContext(logger, { resetKeys: true });
