/**
 * How long a refused client waits: premium linearly, free exponentially with jitter. Shared by the chat
 * function (Retry-After) and the web client (its fallback when a response carries none).
 */
import { ENTITLEMENTS } from './entitlements';
import type { Tier } from './turn';

export interface BackoffPolicy {
  /** Premium: the same wait every time. */
  readonly premiumSeconds: number;
  /** Free: base doubled per attempt, plus up to `jitter` of it, capped. */
  readonly freeBaseSeconds: number;
  readonly freeCapSeconds: number;
  readonly jitter: number;
}

export const defaultBackoffPolicy: BackoffPolicy = {
  premiumSeconds: 10,
  freeBaseSeconds: 10,
  freeCapSeconds: 320,
  jitter: 0.2,
};

/**
 * Retry-After for a refused prompt. Premium: linear (10 s every time). Free: 10, 20, 40 s … by the
 * client's attempt number, each stretched by up to 20 % at random so refused clients do not return
 * in lockstep, and capped.
 */
export function retryAfterSeconds(
  tier: Tier,
  attempt: number,
  random: number,
  policy: BackoffPolicy,
): number {
  if (ENTITLEMENTS[tier].backoff === 'linear') return policy.premiumSeconds;
  const safeAttempt = Math.max(0, Math.min(16, Math.floor(attempt)));
  const base = Math.min(policy.freeCapSeconds, policy.freeBaseSeconds * 2 ** safeAttempt);
  return Math.min(policy.freeCapSeconds, Math.round(base * (1 + policy.jitter * random)));
}
