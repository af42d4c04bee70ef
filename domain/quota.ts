/**
 * Per-user quotas (contract/entitlements.ts): fixed windows, what a refusal tells the client, and the
 * headers' numbers. Pure: the counting itself is the QuotaCounter port (domain/ports.ts).
 */
import { RATE_LIMITED_MESSAGES, type RateLimitReason } from '../contract/errors';
import type { Tier } from '../contract/turn';
import { DomainError } from './errors';

/** What one prompt of a tier may use, as the counter checks it. */
export interface PromptLimits {
  readonly promptsPerWindow: number;
  readonly concurrentStreams: number;
  readonly promptsPerMinute: number;
  readonly windowMs: number;
  /**
   * A stream slot not released within this long no longer counts (a crashed container never releases
   * its slot): the longest turn plus a margin, so a live stream is never forgotten.
   */
  readonly streamLeaseMs: number;
}

export interface QuotaPolicy {
  readonly windowSeconds: number;
  readonly promptsPerWindow: Readonly<Record<Tier, number>>;
  readonly concurrentStreams: Readonly<Record<Tier, number>>;
  readonly promptsPerMinute: Readonly<Record<Tier, number>>;
  readonly maxTurnMs: number;
}

/** Beyond the longest turn: the final write and its retries, before a slot counts as leaked. */
const STREAM_LEASE_MARGIN_MS = 60_000;

export function promptLimits(policy: QuotaPolicy, tier: Tier): PromptLimits {
  return {
    promptsPerWindow: policy.promptsPerWindow[tier],
    concurrentStreams: policy.concurrentStreams[tier],
    promptsPerMinute: policy.promptsPerMinute[tier],
    windowMs: policy.windowSeconds * 1000,
    streamLeaseMs: policy.maxTurnMs + STREAM_LEASE_MARGIN_MS,
  };
}

/** Epoch ms the fixed window holding `now` started. */
export const windowStart = (now: number, windowMs: number): number => now - (now % windowMs);

/** Epoch minute of `now`: the burst counter's bucket. */
export const epochMinute = (now: number): number => Math.floor(now / 60_000);

export const DAY_MS = 86_400_000;

/** What POST /chat's headers say: the window's limit, what is left of it, when it resets. */
export interface RateLimitState {
  readonly limit: number;
  /** Absent when the count could not be had (the counter failed and the prompt was admitted anyway). */
  readonly remaining?: number;
  readonly resetMs: number;
}

export function rateLimitState(limits: PromptLimits, now: number, prompts?: number): RateLimitState {
  return {
    limit: limits.promptsPerWindow,
    ...(prompts === undefined ? {} : { remaining: Math.max(0, limits.promptsPerWindow - prompts) }),
    resetMs: windowStart(now, limits.windowMs) + limits.windowMs - now,
  };
}

/** A duration as OpenAI writes its reset headers: `2h59m58s`, `6m0s`, `1s` (rounded up to the second). */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** How long a stream-limit refusal waits: answers take seconds, so a short wait, not the window's reset. */
export const STREAMS_RETRY_AFTER_MS = 5_000;

/** The 429 for a spent entitlement, with when to try again (Retry-After, at least 1 s). */
export function rateLimited(reason: RateLimitReason, retryAfterMs: number): DomainError {
  return new DomainError('rate_limited', RATE_LIMITED_MESSAGES[reason], {
    reason,
    retry_after_seconds: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}
