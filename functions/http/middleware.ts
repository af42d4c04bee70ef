import type { MiddlewareObj } from '@middy/core';
import { logger } from '../commons/logger';
import type { HttpEvent } from './event';

/** The Function URL request id as correlation id on every log line of the request. */
export const withCorrelationId = (): MiddlewareObj<HttpEvent> => ({
  before: (request) => {
    logger.setCorrelationId(request.event.requestContext?.requestId);
  },
});
