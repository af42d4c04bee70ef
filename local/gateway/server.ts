/**
 * Local stand-in for Lambda Function URLs: one node:http server that routes by path (from the
 * route definitions in lib/resources.ts) and invokes the handlers in this process the way a
 * Function URL does — payload format 2.0 events, a Lambda-like context, BUFFERED results mapped to
 * HTTP, RESPONSE_STREAM handlers given a writable response stream whose JSON prelude (ended by 8 NUL
 * bytes) becomes the status line and headers.
 *
 * Behaviours kept on purpose because production has them:
 * - a client disconnect is NOT signalled to a streaming handler: its stream keeps accepting writes
 *   (discarded) and the invocation runs to its end;
 * - a streaming invocation ends when the handler's promise settles AND its stream has ended (a
 *   handler that never ends its stream runs into the route's timeout, as on Lambda);
 * - a function error before any byte was sent is a 502; after, the response just ends.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';
import { routePaths } from '../../lib/resources';
import { isStreamingHandler } from './awslambda-shim';
// The gateway's API for the stack and tests, in one place.
import { MAX_REQUEST_BYTES } from './event';
import { type GatewayRoute, invokeRoute } from './invoke';
import { errorBody, sendJson } from './json-response';
import { describeError, type GatewayLogger, stdoutLogger } from './log';
import { serveStatic } from './static-files';

export type { GatewayRoute } from './invoke';
export { type GatewayLogEntry, type GatewayLogger, stdoutLogger } from './log';
export { MAX_REQUEST_BYTES };

/** A non-Lambda route served by the gateway itself (e.g. the stack's `GET /config.json`). */
export interface ExtraRoute {
  readonly method: string;
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export interface GatewayOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly routes: readonly GatewayRoute[];
  /** Served for GET/HEAD paths no route claims; `index.html` at `/`. */
  readonly staticDir?: string;
  /** Headers on every static file, as CloudFront's response-headers policy adds them. */
  readonly staticHeaders?: Readonly<Record<string, string>>;
  readonly extraRoutes?: readonly ExtraRoute[];
  /**
   * Headers added to every route's request, replacing any the client sent, as CloudFront's custom origin
   * headers are (the origin secret: functions/http/origin-guard.ts).
   */
  readonly originHeaders?: Readonly<Record<string, string>>;
  /** One call per invocation (and per notable event); defaults to a JSON line on stdout. */
  readonly log?: GatewayLogger;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Resolves when every invocation started so far has ended (handlers keep running after a disconnect). */
  settled(): Promise<void>;
  /** Stops accepting connections and drops open ones. Does not wait for running invocations. */
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? stdoutLogger;
  const byPath = new Map<string, GatewayRoute>();
  // Patterns ending in `/*` (CloudFront's): the route serves every path below the prefix.
  const byPrefix: { readonly prefix: string; readonly route: GatewayRoute }[] = [];
  for (const route of options.routes) {
    if (typeof route.handler !== 'function') {
      throw new Error(`Route ${route.definition.id}: handler is not a function`);
    }
    // The invoke mode is part of the deployment; a handler that does not match it is a bug.
    if (isStreamingHandler(route.handler) !== route.definition.streaming) {
      throw new Error(
        `Route ${route.definition.id}: definition says streaming=${route.definition.streaming} but the handler ${
          route.definition.streaming ? 'is not' : 'is'
        } wrapped by awslambda.streamifyResponse`,
      );
    }
    for (const path of routePaths(route.definition)) {
      if (byPath.has(path) || byPrefix.some((entry) => `${entry.prefix}*` === path)) {
        throw new Error(`Two routes claim ${path}`);
      }
      if (path.endsWith('/*')) byPrefix.push({ prefix: path.slice(0, -1), route });
      else byPath.set(path, route);
    }
  }
  const routeFor = (path: string): GatewayRoute | undefined =>
    byPath.get(path) ??
    byPrefix.find((entry) => path.startsWith(entry.prefix) && path.length > entry.prefix.length)?.route;
  const staticDir = options.staticDir === undefined ? undefined : resolve(options.staticDir);
  const inFlight = new Set<Promise<void>>();

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => {
      // A write racing a client disconnect; the invocation notices through 'close'.
    });
    const work = route(req, res).catch((error: unknown) => {
      log({ level: 'error', msg: 'gateway_error', error: describeError(error) });
      sendJson(res, 500, errorBody('internal_error', 'Internal Server Error'));
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  const server = createServer({ noDelay: true }, onRequest);
  // `Expect: 100-continue` (curl's habit for large bodies): a body over the limit is refused before the
  // client sends it; the connection closes since the unsent body cannot be skipped on it.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? '0') > MAX_REQUEST_BYTES) {
      sendJson(
        res,
        413,
        errorBody('payload_too_large', `Request body is larger than ${MAX_REQUEST_BYTES} bytes`),
        {
          connection: 'close',
        },
      );
      return;
    }
    res.writeContinue();
    onRequest(req, res);
  });
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const rawPath = queryAt < 0 ? target : target.slice(0, queryAt);
    const rawQueryString = queryAt < 0 ? '' : target.slice(queryAt + 1);
    const method = req.method ?? 'GET';

    const lambdaRoute = routeFor(rawPath);
    if (lambdaRoute) {
      await invokeRoute(
        lambdaRoute,
        req,
        res,
        { rawPath, rawQueryString, originHeaders: options.originHeaders ?? {} },
        log,
      );
      return;
    }
    const extra = options.extraRoutes?.find((r) => r.path === rawPath && r.method === method);
    if (extra) {
      await extra.handle(req, res);
      return;
    }
    if (staticDir !== undefined && (method === 'GET' || method === 'HEAD')) {
      if (await serveStatic(staticDir, rawPath, method, res, options.staticHeaders)) return;
    }
    req.resume();
    sendJson(res, 404, errorBody('not_found', `No route for ${method} ${rawPath}`));
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    server,
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}
