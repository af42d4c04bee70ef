import type { Context } from 'aws-lambda';
import { runInLogScope } from '../commons/log-scope';
import type { HttpEvent } from './event';

/**
 * The handler run in a log scope of its own, with the Function URL request id as correlation id: every
 * line of the request carries it, and the keys added later (caller, turn), for as long as its work runs,
 * a stream that outlives the handler included. Not a middy middleware: those cannot wrap the handler.
 */
export const inRequestLogScope =
  <R>(handler: (event: HttpEvent, context?: Context) => Promise<R>) =>
  (event: HttpEvent, context?: Context): Promise<R> =>
    runInLogScope(
      { request_id: context?.awsRequestId, correlation_id: event.requestContext?.requestId },
      () => handler(event, context),
    );
