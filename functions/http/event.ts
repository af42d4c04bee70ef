import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MAX_REQUEST_BODY_BYTES } from '../../contract/http-api';
import { DomainError, invalidRequest } from '../../domain/errors';
import type { Log } from '../../domain/ports';
import type { HttpVerb } from '../../lib/resources';
import { mapError } from './errors';

/** Function URL event (payload format 2.0). */
export type HttpEvent = APIGatewayProxyEventV2;

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResult(error: unknown, log: Log): HttpResult {
  const mapped = mapError(error, log);
  return json(mapped.statusCode, mapped.body, mapped.headers);
}

/** The request's method, when it is one of `allowed` (a route's function may serve several). */
export function requireMethod(event: HttpEvent, allowed: HttpVerb | readonly HttpVerb[]): HttpVerb {
  const methods: readonly HttpVerb[] = typeof allowed === 'string' ? [allowed] : allowed;
  const actual = methods.find((method) => method === event.requestContext.http.method);
  if (!actual) {
    throw new DomainError('method_not_allowed', `Use ${methods.join(' or ')} for ${event.rawPath}.`);
  }
  return actual;
}

/** Body bytes allowed before parsing; the per-field limits are checked by the request parsers (requests.ts). */
const MAX_BODY_BYTES = MAX_REQUEST_BODY_BYTES;

export function parseJsonBody(event: HttpEvent): unknown {
  if (event.body === undefined || event.body === '') throw invalidRequest('The request body must be JSON.');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new DomainError('payload_too_large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalidRequest('The request body is not valid JSON.');
  }
}

export function header(event: HttpEvent, name: string): string | undefined {
  return event.headers?.[name.toLowerCase()];
}

export function query(event: HttpEvent): Record<string, string | undefined> {
  return event.queryStringParameters ?? {};
}
