import middy from '@middy/core';
import type { Caller } from '../../domain/turn';
import { authenticate } from './auth';
import { errorResult, type HttpEvent, type HttpResult, requireMethod } from './http';
import { logger } from './logger';
import { withCorrelationId, withLogging } from './middleware';

/**
 * A buffered Function URL handler: method check, then the verified caller, then the route's own
 * work; every error, expected or not, leaves through the one error mapping.
 */
export function httpHandler(
  method: 'GET' | 'POST',
  route: (event: HttpEvent, caller: Caller) => Promise<HttpResult>,
) {
  const raw = async (event: HttpEvent): Promise<HttpResult> => {
    try {
      requireMethod(event, method);
      return await route(event, await authenticate(event));
    } catch (error) {
      return errorResult(error, logger);
    }
  };
  return {
    raw,
    handler: middy<HttpEvent, HttpResult>().use(withLogging()).use(withCorrelationId()).handler(raw),
  };
}
