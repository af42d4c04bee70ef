/**
 * One invocation of a route's handler: read the body, build the event and context, run the handler in
 * its invoke mode against the route's timeout, then log what happened.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteDefinition } from '../../lib/resources';
import { runBuffered } from './buffered-result';
import { buildEvent, MAX_REQUEST_BYTES, readBody } from './event';
import { Invocation, type Outcome } from './invocation';
import { errorBody, sendJson } from './json-response';
import { createLambdaContext } from './lambda-context';
import { describeError, type GatewayLogger } from './log';
import { runStreaming } from './response-stream';

export interface GatewayRoute {
  readonly definition: RouteDefinition;
  /** The module's exported `handler`: a buffered handler, or one wrapped by streamifyResponse. */
  readonly handler: unknown;
}

export async function invokeRoute(
  lambdaRoute: GatewayRoute,
  req: IncomingMessage,
  res: ServerResponse,
  target: {
    readonly rawPath: string;
    readonly rawQueryString: string;
    readonly originHeaders: Readonly<Record<string, string>>;
  },
  log: GatewayLogger,
): Promise<void> {
  const { rawPath, rawQueryString } = target;
  const { definition } = lambdaRoute;
  const startedAt = Date.now();
  const requestId = randomUUID();
  const body = await readBody(req);
  if (body === 'too_large' || body === 'too_large_cut') {
    sendJson(
      res,
      413,
      errorBody('payload_too_large', `Request body is larger than ${MAX_REQUEST_BYTES} bytes`),
      body === 'too_large_cut' ? { connection: 'close' } : {},
    );
    log({
      level: 'warn',
      msg: 'invoke',
      route: definition.id,
      requestId,
      method: req.method,
      path: rawPath,
      status: 413,
      durationMs: Date.now() - startedAt,
      bytes: 0,
      outcome: 'rejected',
    });
    return;
  }
  if (body === 'aborted') return;

  const event = buildEvent(req, rawPath, rawQueryString, body, requestId, startedAt);
  Object.assign(event.headers, target.originHeaders);
  const deadline = startedAt + definition.timeoutSeconds * 1000;
  const context = createLambdaContext(definition, requestId, startedAt);
  const invocation = new Invocation(res, () =>
    log({ level: 'info', msg: 'client_gone', route: definition.id, requestId }),
  );
  res.setHeader('x-amzn-requestid', requestId);

  const run = definition.streaming
    ? runStreaming(lambdaRoute.handler, event, context, invocation)
    : runBuffered(lambdaRoute.handler, event, context, invocation);

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
  });
  const outcome = await Promise.race([run, timedOut]);
  clearTimeout(timer);

  let error: string | undefined;
  switch (outcome.kind) {
    case 'ok':
      invocation.end();
      break;
    case 'error':
      error = describeError(outcome.error);
      invocation.fail('internal_error', 'Internal Server Error');
      break;
    case 'timeout':
      error = `Task timed out after ${definition.timeoutSeconds} seconds`;
      invocation.fail('function_timeout', error);
      // The handler keeps running in this process (Lambda would freeze it); its writes are dropped.
      void run.then((late) => {
        if (late.kind === 'error') {
          log({
            level: 'warn',
            msg: 'late_error',
            route: definition.id,
            requestId,
            error: describeError(late.error),
          });
        }
      });
      break;
  }
  log({
    level: outcome.kind === 'ok' ? 'info' : 'error',
    msg: 'invoke',
    route: definition.id,
    requestId,
    method: event.requestContext.http.method,
    path: rawPath,
    status: invocation.status,
    durationMs: Date.now() - startedAt,
    bytes: invocation.bytesSent,
    ...(invocation.bytesDiscarded > 0 ? { discardedBytes: invocation.bytesDiscarded } : {}),
    outcome: outcome.kind,
    ...(invocation.clientGone ? { clientGone: true } : {}),
    ...(error === undefined ? {} : { error }),
  });
}
