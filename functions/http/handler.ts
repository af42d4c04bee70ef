import middy from '@middy/core';
import type { Caller } from '../../domain/turn';
import type { HttpVerb } from '../../lib/resources';
import { logger, withLogging } from '../commons/logger';
import type { Authenticate } from './auth';
import { errorResult, type HttpEvent, type HttpResult, requireMethod } from './event';
import { inRequestLogScope } from './middleware';
import { type OriginGuard, originRefusal } from './origin-guard';

export type HttpRoute = (event: HttpEvent, caller: Caller, method: HttpVerb) => Promise<HttpResult>;

/**
 * A buffered Function URL handler: the origin check, the method check, then the verified caller, then
 * the route's own work; every error, expected or not, leaves through the one error mapping (errors.ts).
 */
export function httpHandler(
  methods: HttpVerb | readonly HttpVerb[],
  guards: {
    readonly origin: OriginGuard;
    readonly authenticate: Authenticate;
    /** The error body's shape; the API's own unless given (`/v1/*`: OpenAI's). */
    readonly errorResult?: (error: unknown) => HttpResult;
  },
  route: HttpRoute,
) {
  const { authenticate } = guards;
  const toResult = guards.errorResult ?? ((error: unknown) => errorResult(error, logger));
  const raw = async (event: HttpEvent): Promise<HttpResult> => {
    try {
      const refused = await originRefusal(guards.origin, event, logger);
      if (refused) return refused;
      const method = requireMethod(event, methods);
      return await route(event, await authenticate(event), method);
    } catch (error) {
      return toResult(error);
    }
  };
  return {
    raw,
    handler: middy<HttpEvent, HttpResult>().use(withLogging()).handler(inRequestLogScope(raw)),
  };
}
