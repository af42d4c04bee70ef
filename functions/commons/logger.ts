import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { settings } from '../settings';
import { CompactLogFormatter } from './log-formatter';

/** One logger per container. Log ids, sizes and timings; never prompt or answer text. */
export const logger = new Logger({
  serviceName: settings.serviceName,
  logFormatter: new CompactLogFormatter(),
});

/** Lambda context on every log line; keys reset per call (a caller's keys never leak into the next). */
export const withLogging = () => injectLambdaContext(logger, { resetKeys: true });
