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
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { extname, resolve, sep } from 'node:path';
import { Writable } from 'node:stream';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import type { RouteDefinition } from '../../lib/resources';
import { DELIMITER_LEN, isStreamingHandler, METADATA_PRELUDE_CONTENT_TYPE } from './awslambda-shim';

/** Function URL request payload limit (the invoke payload limit of a synchronous invocation). */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const LOCAL_ACCOUNT_ID = '123456789012';
const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';
const DELIMITER = Buffer.alloc(DELIMITER_LEN);

export interface GatewayRoute {
  readonly definition: RouteDefinition;
  /** The module's exported `handler`: a buffered handler, or one wrapped by streamifyResponse. */
  readonly handler: unknown;
}

/** A non-Lambda route served by the gateway itself (e.g. the stack's `GET /config.json`). */
export interface ExtraRoute {
  readonly method: string;
  readonly path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export interface GatewayLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly [key: string]: unknown;
}

export type GatewayLogger = (entry: GatewayLogEntry) => void;

export interface GatewayOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly routes: readonly GatewayRoute[];
  /** Served for GET/HEAD paths no route claims; `index.html` at `/`. */
  readonly staticDir?: string;
  readonly extraRoutes?: readonly ExtraRoute[];
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

export const stdoutLogger: GatewayLogger = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.end();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? stdoutLogger;
  const byPath = new Map<string, GatewayRoute>();
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
    if (byPath.has(route.definition.path)) {
      throw new Error(`Two routes claim ${route.definition.path}`);
    }
    byPath.set(route.definition.path, route);
  }
  const staticDir = options.staticDir === undefined ? undefined : resolve(options.staticDir);
  const inFlight = new Set<Promise<void>>();

  const server = createServer({ noDelay: true }, (req, res) => {
    res.on('error', () => {
      // A write racing a client disconnect; the invocation notices through 'close'.
    });
    const work = route(req, res).catch((error: unknown) => {
      log({ level: 'error', msg: 'gateway_error', error: describeError(error) });
      sendJson(res, 500, errorBody('internal_error', 'Internal Server Error'));
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
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

    const lambdaRoute = byPath.get(rawPath);
    if (lambdaRoute) {
      await invoke(lambdaRoute, req, res, rawPath, rawQueryString);
      return;
    }
    const extra = options.extraRoutes?.find((r) => r.path === rawPath && r.method === method);
    if (extra) {
      await extra.handle(req, res);
      return;
    }
    if (staticDir !== undefined && (method === 'GET' || method === 'HEAD')) {
      if (await serveStatic(staticDir, rawPath, method, res)) return;
    }
    req.resume();
    sendJson(res, 404, errorBody('not_found', `No route for ${method} ${rawPath}`));
  }

  async function invoke(
    lambdaRoute: GatewayRoute,
    req: IncomingMessage,
    res: ServerResponse,
    rawPath: string,
    rawQueryString: string,
  ): Promise<void> {
    const { definition } = lambdaRoute;
    const startedAt = Date.now();
    const requestId = randomUUID();
    const body = await readBody(req);
    if (body === 'too_large') {
      sendJson(
        res,
        413,
        errorBody('payload_too_large', `Request body is larger than ${MAX_REQUEST_BYTES} bytes`),
        {
          connection: 'close',
        },
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

type Outcome = { kind: 'ok' } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

type Invocable = (...args: unknown[]) => unknown;

function isInvocable(value: unknown): value is Invocable {
  return typeof value === 'function';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof Reflect.get(value, 'then') === 'function'
  );
}

/** The HTTP side of one invocation: what was sent, and whether anything more may be. */
class Invocation {
  status = 0;
  bytesSent = 0;
  bytesDiscarded = 0;
  clientGone = false;
  /** Set once the response is over (ended, failed, timed out): later handler writes are dropped. */
  closed = false;

  constructor(
    readonly res: ServerResponse,
    onClientGone: () => void,
  ) {
    res.on('close', () => {
      if (!res.writableFinished && !this.closed) {
        this.clientGone = true;
        onClientGone();
      }
    });
  }

  get headWritten(): boolean {
    return this.res.headersSent;
  }

  get accepting(): boolean {
    return !this.closed && !this.clientGone && !this.res.destroyed;
  }

  writeHead(statusCode: number, headers: Record<string, string | string[]>): void {
    if (this.closed) return;
    this.status = statusCode;
    if (!this.accepting) return;
    for (const [name, value] of Object.entries(headers)) this.res.setHeader(name, value);
    this.res.statusCode = statusCode;
    this.res.flushHeaders();
  }

  /** Sends one body chunk now; resolves when the socket can take more (or the client is gone). */
  async send(chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.accepting) {
      this.bytesDiscarded += chunk.length;
      return;
    }
    this.bytesSent += chunk.length;
    if (this.res.write(chunk)) return;
    await new Promise<void>((resolveDrain) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolveDrain();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  sendWhole(statusCode: number, headers: Record<string, string | string[]>, body: Buffer): void {
    if (this.closed) return;
    this.status = statusCode;
    if (!this.accepting) {
      this.bytesDiscarded += body.length;
      this.closed = true;
      return;
    }
    this.res.writeHead(statusCode, { ...headers, 'content-length': String(body.length) });
    this.bytesSent += body.length;
    this.res.end(body);
    this.closed = true;
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.res.headersSent && !this.res.destroyed) {
      this.status = this.status || 200;
      this.res.statusCode = this.status;
    }
    this.res.end();
  }

  /** A function error: 502 JSON if nothing was sent yet, otherwise the response just ends. */
  fail(code: string, message: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.res.headersSent || this.res.destroyed) {
      this.res.end();
      return;
    }
    this.status = 502;
    sendJson(this.res, 502, errorBody(code, message));
  }
}

async function runBuffered(
  handler: unknown,
  event: LambdaFunctionURLEvent,
  context: Context,
  invocation: Invocation,
): Promise<Outcome> {
  if (!isInvocable(handler)) return { kind: 'error', error: new Error('handler is not a function') };
  let result: unknown;
  try {
    result = await handler(event, context);
  } catch (error) {
    return { kind: 'error', error };
  }
  if (invocation.closed) return { kind: 'ok' };
  try {
    const mapped = mapBufferedResult(result);
    invocation.sendWhole(mapped.statusCode, mapped.headers, mapped.body);
  } catch (error) {
    return { kind: 'error', error };
  }
  return { kind: 'ok' };
}

interface HttpResult {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Function URL response mapping (payload format 2.0, including its inference for plain results). */
export function mapBufferedResult(result: unknown): HttpResult {
  if (
    typeof result === 'object' &&
    result !== null &&
    typeof Reflect.get(result, 'statusCode') === 'number'
  ) {
    const structured = result as Record<string, unknown>;
    const headers = collectHeaders(structured);
    if (!Object.keys(headers).some((name) => name === 'content-type'))
      headers['content-type'] = 'application/json';
    const rawBody = structured.body;
    const text = rawBody === undefined || rawBody === null ? '' : String(rawBody);
    const body = structured.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text);
    return { statusCode: Number(structured.statusCode), headers, body };
  }
  const text = result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
}

/** headers / multiValueHeaders / cookies of a structured result or a streaming prelude. */
function collectHeaders(source: Record<string, unknown>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const single = source.headers;
  if (typeof single === 'object' && single !== null) {
    for (const [name, value] of Object.entries(single)) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
  }
  const multi = source.multiValueHeaders;
  if (typeof multi === 'object' && multi !== null) {
    for (const [name, values] of Object.entries(multi)) {
      if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String);
    }
  }
  const cookies = source.cookies;
  if (Array.isArray(cookies) && cookies.length > 0) {
    const existing = headers['set-cookie'];
    const prior = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
    headers['set-cookie'] = [...prior, ...cookies.map(String)];
  }
  return headers;
}

type WriteCallback = (error?: Error | null) => void;

/**
 * The `responseStream` a streaming handler writes to. Like the runtime's, it has `setContentType`
 * (which `HttpResponseStream.from` uses), stringifies non-binary chunks, and never learns that the
 * client went away.
 */
class LambdaResponseStream extends Writable {
  #contentType = DEFAULT_STREAM_CONTENT_TYPE;
  #written = false;
  #pending: Buffer = Buffer.alloc(0);

  constructor(private readonly invocation: Invocation) {
    super();
  }

  setContentType(contentType: string): void {
    if (this.#written) throw new Error('Cannot set content-type, too late.');
    this.#contentType = contentType;
  }

  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    this.#written = true;
    const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    if (typeof encoding === 'function') return super.write(data, encoding);
    return super.write(data, encoding ?? 'utf8', callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#accept(chunk).then(() => callback(), callback);
  }

  override _final(callback: WriteCallback): void {
    try {
      if (!this.invocation.headWritten) {
        if (this.#contentType === METADATA_PRELUDE_CONTENT_TYPE && this.#pending.length > 0) {
          throw new Error('Response stream ended inside its prelude (no 8-NUL delimiter)');
        }
        this.invocation.writeHead(200, { 'content-type': this.#contentType });
      }
      callback();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async #accept(chunk: Buffer): Promise<void> {
    if (this.invocation.headWritten || !this.invocation.accepting) {
      await this.invocation.send(chunk);
      return;
    }
    if (this.#contentType !== METADATA_PRELUDE_CONTENT_TYPE) {
      this.invocation.writeHead(200, { 'content-type': this.#contentType });
      await this.invocation.send(chunk);
      return;
    }
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const at = this.#pending.indexOf(DELIMITER);
    if (at < 0) return;
    const preludeText = this.#pending.subarray(0, at).toString('utf8');
    const rest = this.#pending.subarray(at + DELIMITER_LEN);
    this.#pending = Buffer.alloc(0);
    const prelude: unknown = JSON.parse(preludeText);
    if (typeof prelude !== 'object' || prelude === null)
      throw new Error('Response prelude is not a JSON object');
    const record = prelude as Record<string, unknown>;
    const headers = collectHeaders(record);
    if (headers['content-type'] === undefined) headers['content-type'] = DEFAULT_STREAM_CONTENT_TYPE;
    const statusCode = typeof record.statusCode === 'number' ? record.statusCode : 200;
    this.invocation.writeHead(statusCode, headers);
    await this.invocation.send(rest);
  }
}

async function runStreaming(
  handler: unknown,
  event: LambdaFunctionURLEvent,
  context: Context,
  invocation: Invocation,
): Promise<Outcome> {
  if (!isInvocable(handler)) return { kind: 'error', error: new Error('handler is not a function') };
  const stream = new LambdaResponseStream(invocation);
  const finished = new Promise<void>((resolveFinish, rejectFinish) => {
    stream.once('finish', () => resolveFinish());
    stream.once('error', rejectFinish);
    stream.once('close', () => {
      if (!stream.writableFinished) rejectFinish(new Error('Response stream destroyed before it ended'));
    });
  });
  finished.catch(() => {
    // Reported through the handler's outcome below.
  });
  try {
    const result = handler(event, stream, context);
    if (!isThenable(result)) throw new Error('Streaming does not support non-async handlers.');
    await result;
    await finished;
    return { kind: 'ok' };
  } catch (error) {
    return { kind: 'error', error };
  }
}

type BodyResult = Buffer | 'too_large' | 'aborted';

function readBody(req: IncomingMessage): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_REQUEST_BYTES) {
    req.resume();
    return Promise.resolve('too_large');
  }
  return new Promise<BodyResult>((resolveBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolveBody(size > MAX_REQUEST_BYTES ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', () => resolveBody('aborted'));
    req.on('close', () => {
      if (!req.complete) resolveBody('aborted');
    });
  });
}

const TEXT_CONTENT_TYPE =
  /^(text\/|application\/(json|javascript|xml|x-ndjson|graphql)\b|application\/[\w.+-]+\+(json|xml)\b)/i;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}

/** `05/Aug/2022:08:14:39 +0000`, the requestContext.time format. */
export function formatRequestTime(date: Date): string {
  return `${pad2(date.getUTCDate())}/${MONTHS[date.getUTCMonth()] ?? 'Jan'}/${date.getUTCFullYear()}:${pad2(
    date.getUTCHours(),
  )}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000`;
}

/** Builds the payload format 2.0 event a Function URL sends. */
export function buildEvent(
  req: IncomingMessage,
  rawPath: string,
  rawQueryString: string,
  body: Buffer,
  requestId: string,
  now: number,
): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    if (name === 'cookie') {
      const parts = value
        .split(';')
        .map((part) => part.trim())
        .filter((part) => part.length > 0);
      cookies = [...(cookies ?? []), ...parts];
      continue;
    }
    const prior = headers[name];
    headers[name] = prior === undefined ? value : `${prior},${value}`;
  }
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString.length > 0) {
    queryStringParameters = {};
    for (const [key, value] of new URLSearchParams(rawQueryString)) {
      const prior = queryStringParameters[key];
      queryStringParameters[key] = prior === undefined ? value : `${prior},${value}`;
    }
  }

  const domainName = headers.host ?? 'localhost';
  const domainPrefix = domainName.split('.')[0] ?? domainName;
  const contentType = headers['content-type'] ?? '';
  const isText = TEXT_CONTENT_TYPE.test(contentType);
  const event: LambdaFunctionURLEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies === undefined ? {} : { cookies }),
    headers,
    ...(queryStringParameters === undefined ? {} : { queryStringParameters }),
    requestContext: {
      accountId: 'anonymous',
      apiId: domainPrefix,
      domainName,
      domainPrefix,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: formatRequestTime(new Date(now)),
      timeEpoch: now,
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
  return event;
}

/** The function settings a Lambda context reflects. */
export type FunctionSettings = Pick<RouteDefinition, 'id' | 'memoryMb' | 'timeoutSeconds'>;

/**
 * A Lambda-like context for one invocation of `definition` (also for background functions the
 * stack invokes on timers). The deadline is `startedAt + timeoutSeconds`.
 */
export function createLambdaContext(
  definition: FunctionSettings,
  requestId: string = randomUUID(),
  startedAt: number = Date.now(),
): Context {
  const deadline = startedAt + definition.timeoutSeconds * 1000;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const day = new Date(startedAt).toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return a value or throw`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: definition.id,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${definition.id}`,
    memoryLimitInMB: String(definition.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${definition.id}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

async function serveStatic(
  root: string,
  rawPath: string,
  method: string,
  res: ServerResponse,
): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return false;
  }
  const relative = decoded.endsWith('/') ? `${decoded}index.html` : decoded;
  const file = resolve(root, `.${relative}`);
  if (file !== root && !file.startsWith(`${root}${sep}`)) return false;
  try {
    const info = await stat(file);
    if (!info.isFile()) return false;
    const content = await readFile(file);
    res.writeHead(200, {
      'content-type': STATIC_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': String(content.length),
      'cache-control': 'no-store',
    });
    res.end(method === 'HEAD' ? undefined : content);
    return true;
  } catch {
    return false;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
