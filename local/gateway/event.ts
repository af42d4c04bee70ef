/** The request side of a Function URL: its payload limit, reading the body, the payload format 2.0 event. */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LambdaFunctionURLEvent } from 'aws-lambda';

/** Function URL request payload limit (the invoke payload limit of a synchronous invocation). */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

/** `too_large_cut`: so far over the limit that the connection is closed rather than drained. */
export type BodyResult = Buffer | 'too_large' | 'too_large_cut' | 'aborted';

/**
 * A body over the limit is drained (read and discarded, never buffered) and only then refused: a server
 * that answers and closes while the client is still uploading resets the connection, and the client sees
 * the reset instead of the 413 (nginx's "lingering close" solves the same problem). A client sending
 * `Expect: 100-continue` is refused before it sends anything (server.ts). Past this many bytes the
 * upload is not worth waiting for: the 413 goes out at once with `connection: close`.
 */
export const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_DRAINED_BYTES) {
    req.resume();
    return Promise.resolve('too_large_cut');
  }
  return new Promise<BodyResult>((resolveBody) => {
    const chunks: Buffer[] = [];
    let size = declared > MAX_REQUEST_BYTES ? declared : 0;
    let read = 0;
    req.on('data', (chunk: Buffer) => {
      read += chunk.length;
      size = Math.max(size, read);
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
      else chunks.length = 0;
      if (read > MAX_DRAINED_BYTES) resolveBody('too_large_cut');
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
