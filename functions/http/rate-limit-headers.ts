import { RATE_LIMIT_HEADERS } from '../../contract/errors';
import { formatResetDuration, type RateLimitState } from '../../domain/quota';

/**
 * POST /chat's rate-limit headers, as OpenAI names them. `remaining` is left out when the counter failed
 * and the prompt was admitted uncounted: no number is better than a wrong one.
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  return {
    [RATE_LIMIT_HEADERS.limit]: String(state.limit),
    ...(state.remaining === undefined ? {} : { [RATE_LIMIT_HEADERS.remaining]: String(state.remaining) }),
    [RATE_LIMIT_HEADERS.reset]: formatResetDuration(state.resetMs),
  };
}

export function withHeaders<T extends { readonly headers: Record<string, string> }>(
  result: T,
  headers: Record<string, string>,
): T {
  return { ...result, headers: { ...result.headers, ...headers } };
}
