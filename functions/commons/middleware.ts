import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { HttpEvent } from './http';
import { logger } from './logger';

/** Lambda context + the Function URL request id as correlation id on every log line; keys reset per call. */
export const withLogging = () => injectLambdaContext(logger, { resetKeys: true });

export const withCorrelationId = (): MiddlewareObj<HttpEvent> => ({
  before: (request) => {
    logger.setCorrelationId(request.event.requestContext?.requestId);
  },
});
