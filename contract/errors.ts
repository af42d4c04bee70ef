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

/** Why a `rate_limited` (429) answer refused: which of the caller's entitlements ran out. */
export type RateLimitReason = 'window' | 'burst' | 'streams' | 'stored_bytes';

/** The messages of `rate_limited` answers, by reason; the body's `retry_after_seconds` says when to retry. */
export const RATE_LIMITED_MESSAGES: Readonly<Record<RateLimitReason, string>> = {
  window: 'You have used all the prompts of your plan for now. Please try again later.',
  burst: 'You are sending prompts too quickly. Please wait a moment.',
  streams: 'Too many answers are being written for you at once. Please wait for one to finish.',
  stored_bytes: 'You have stored as much as your plan allows today.',
};

/** Response headers of POST /chat (OpenAI's names): the window's limit, what is left, when it resets. */
export const RATE_LIMIT_HEADERS = {
  limit: 'x-ratelimit-limit-requests',
  remaining: 'x-ratelimit-remaining-requests',
  /** A duration like `2h59m58s`, as OpenAI sends it. */
  reset: 'x-ratelimit-reset-requests',
} as const;

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
