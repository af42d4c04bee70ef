import { defaultBackoffPolicy, retryAfterSeconds } from '../../contract/backoff';
import type { Tier } from '../../contract/turn';

/**
 * Seconds to wait after a 503. The server's Retry-After wins (it already applies the tier's policy to
 * our `x-retry-attempt`); then the body's `retry_after_seconds`; only when both are missing is the same
 * policy applied here: premium a flat 10 s, free 10·2^attempt s stretched by up to 20 % jitter, capped.
 */
export function retryDelaySeconds(
  retryAfterHeader: string | null,
  bodySeconds: unknown,
  tier: Tier,
  attempt: number,
  random: number = Math.random(),
): number {
  const fromHeader = parseRetryAfter(retryAfterHeader);
  if (fromHeader !== undefined) return fromHeader;
  if (typeof bodySeconds === 'number' && Number.isFinite(bodySeconds) && bodySeconds >= 0) {
    return Math.ceil(bodySeconds);
  }
  return fallbackSeconds(tier, attempt, random);
}

/** The server's own policy (contract/backoff.ts), with its defaults: one definition for both sides. */
export function fallbackSeconds(tier: Tier, attempt: number, random: number): number {
  return retryAfterSeconds(tier, attempt, random, defaultBackoffPolicy);
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
