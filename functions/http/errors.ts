import {
  type ErrorBody,
  type ErrorCode,
  INTERNAL_ERROR_MESSAGE,
  OVERLOADED_MESSAGE,
} from '../../contract/errors';
import { DomainError } from '../../domain/errors';
import type { Log } from '../../domain/ports';

/** The one mapping from the error taxonomy to HTTP. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  in_progress: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal_error: 500,
  upstream_error: 502,
  // The fleet refused our API key: our misconfiguration, but the client only needs to know the model failed.
  upstream_auth: 502,
  // The model produced more than a turn can hold: its fault, like a broken stream.
  answer_too_long: 502,
  overloaded: 503,
  upstream_timeout: 504,
};

export interface MappedError {
  statusCode: number;
  headers: Record<string, string>;
  body: ErrorBody;
}

/** Internal failures are logged with their detail and answered with a generic message: nothing leaks. */
export function mapError(error: unknown, log: Log): MappedError {
  const domainError =
    error instanceof DomainError ? error : new DomainError('internal_error', INTERNAL_ERROR_MESSAGE);
  const statusCode = STATUS_BY_CODE[domainError.code];
  if (!(error instanceof DomainError)) {
    log.error('unhandled error', {
      error: error instanceof Error ? { name: error.name, stack: error.stack } : error,
    });
  } else if (statusCode >= 500) {
    log.warn('request failed', { code: domainError.code });
  }
  const headers: Record<string, string> = {};
  const retryAfter = domainError.details.retry_after_seconds;
  if (typeof retryAfter === 'number') headers['retry-after'] = String(Math.ceil(retryAfter));
  // Only whitelisted details reach the client; upstream status codes and causes stay in the logs.
  const visible: Record<string, string | number | boolean> = {};
  for (const key of ['retry_after_seconds', 'message_id'] as const) {
    const value = domainError.details[key];
    if (value !== undefined) visible[key] = value;
  }
  const message = domainError.code === 'overloaded' ? OVERLOADED_MESSAGE : domainError.message;
  return { statusCode, headers, body: { error: { code: domainError.code, message, ...visible } } };
}
