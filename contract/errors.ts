/**
 * The error codes the API answers with, the fixed messages a client may show, and the body that
 * carries them (`{ error: { code, message, ...details } }`) on every non-2xx answer and SSE `error`.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'in_progress'
  | 'overloaded'
  | 'rate_limited'
  | 'upstream_error'
  | 'upstream_timeout'
  | 'upstream_auth'
  | 'answer_too_long'
  | 'internal_error';

export interface ErrorBody {
  error: { code: ErrorCode; message: string } & Record<string, string | number | boolean>;
}

/** The message of every `overloaded` (503) answer; the web client shows it while it waits to retry. */
export const OVERLOADED_MESSAGE = 'Our AI servers are busy. Please try again shortly.';

/** The message of every `internal_error`: the cause stays in the logs. */
export const INTERNAL_ERROR_MESSAGE = 'Something went wrong on our side.';

/** How a client words a history entry's `error_code` (the stored reason a turn failed). */
export const TURN_ERROR_MESSAGES: Readonly<Record<string, string>> = {
  upstream_timeout: 'The model took too long to answer.',
  upstream_error: 'The model could not answer.',
  upstream_auth: 'The model could not answer.',
  answer_too_long: 'The answer was too long to keep and was cut off.',
  overloaded: OVERLOADED_MESSAGE,
};

/** For an `error_code` without its own wording. */
export const TURN_ERROR_FALLBACK_MESSAGE = 'Something went wrong while answering.';
