/**
 * The one error taxonomy (domain/errors.ts) in OpenAI's shape, for `/v1/*`: the status, headers and
 * message come from the one mapping (../errors.ts); only the body's shape differs,
 * `{"error":{"message","type","param","code"}}`, with our error code as `code`.
 */
import type { ErrorCode } from '../../../contract/errors';
import {
  MODEL_NOT_FOUND,
  OPENAI_HEADERS,
  type OpenAiErrorBody,
  type OpenAiErrorType,
} from '../../../contract/openai';
import { isDomainError } from '../../../domain/errors';
import type { Log } from '../../../domain/ports';
import { mapError } from '../errors';
import { type HttpResult, json } from '../event';
import { sseData } from '../sse';

const TYPE_BY_CODE: Record<ErrorCode, OpenAiErrorType> = {
  invalid_request: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  conflict: 'invalid_request_error',
  in_progress: 'invalid_request_error',
  unauthorized: 'authentication_error',
  forbidden: 'permission_error',
  not_found: 'not_found_error',
  rate_limited: 'rate_limit_error',
  overloaded: 'server_error',
  upstream_error: 'server_error',
  upstream_timeout: 'server_error',
  upstream_auth: 'server_error',
  answer_too_long: 'server_error',
  internal_error: 'server_error',
};

/**
 * The official clients retry 409, 429 and 5xx by themselves, waiting out Retry-After. Longer than this,
 * a person is better told at once (a spent quota window waits hours), so the retry is turned off.
 */
const LONGEST_AUTOMATIC_RETRY_SECONDS = 60;

export interface OpenAiMappedError {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: OpenAiErrorBody;
}

export function mapOpenAiError(error: unknown, log: Log): OpenAiMappedError {
  const mapped = mapError(error, log);
  const { code, message } = mapped.body.error;
  const param = isDomainError(error) && typeof error.details.param === 'string' ? error.details.param : null;
  const headers = { ...mapped.headers };
  const retryAfter = mapped.body.error.retry_after_seconds;
  // A key used with another request never succeeds on retry; a spent window is hours away.
  if (
    code === 'conflict' ||
    (typeof retryAfter === 'number' && retryAfter > LONGEST_AUTOMATIC_RETRY_SECONDS)
  ) {
    headers[OPENAI_HEADERS.shouldRetry] = 'false';
  }
  return {
    statusCode: mapped.statusCode,
    headers,
    body: {
      error: {
        message,
        type: TYPE_BY_CODE[code],
        param,
        code: code === 'not_found' && param === 'model' ? MODEL_NOT_FOUND : code,
      },
    },
  };
}

export function openAiErrorResult(error: unknown, log: Log): HttpResult {
  const mapped = mapOpenAiError(error, log);
  return json(mapped.statusCode, mapped.body, mapped.headers);
}

/** A failure after a stream's headers: a `data:` event holding the error body, as OpenAI sends it. */
export function openAiErrorFrame(error: unknown, log: Log): string {
  return sseData(mapOpenAiError(error, log).body);
}
