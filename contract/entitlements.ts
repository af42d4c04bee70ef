/**
 * What each tier is entitled to, in one table (in the spirit of vercel/ai-chatbot's entitlements.ts).
 * Admission (domain/fleet.ts), routing (use-cases/fleet-gate.ts), the Retry-After (backoff) and the
 * quotas (domain/quota.ts) read it; nothing else asks which tier a caller is. Numbers that are deployment
 * settings (thresholds, the hold's length, the backoff's seconds, the prompts per window and streams) stay
 * settings, whose defaults are the numbers here; this says which of them a tier gets.
 */
import type { Tier } from './turn';

export interface Entitlement {
  /** Shed by the steered ratio while the fleet sheds, and refused outright when it is saturated. */
  readonly sheddable: boolean;
  /** How full this tier may make a server: up to the shed threshold, or up to its safe limit. */
  readonly serverCeiling: 'shed_threshold' | 'safe_limit';
  /** Under `static_reservation`, may use the servers reserved for premium. */
  readonly usesReservedServers: boolean;
  /** Held and re-checked for up to PREMIUM_ADMISSION_WAIT_MS when no server has room, before a refusal. */
  readonly heldForRoom: boolean;
  /** Servers a prompt may try before the first token (the first and its failovers). */
  readonly serverAttempts: number;
  /** Retry-After of a refusal: the same wait every time, or doubling per attempt with jitter. */
  readonly backoff: 'linear' | 'exponential';
  /** Prompts per quota window (QUOTA_WINDOW_SECONDS); default of FREE_/PREMIUM_PROMPTS_PER_WINDOW. */
  readonly promptsPerWindow: number;
  /** Answers streaming at once for one user; default of FREE_/PREMIUM_CONCURRENT_STREAMS. */
  readonly concurrentStreams: number;
  /** Prompts per calendar minute, against bursts the window alone would allow; default of FREE_/PREMIUM_PROMPTS_PER_MINUTE. */
  readonly promptsPerMinute: number;
  /** `max_tokens` for this tier, within the deployment's ceiling MAX_ANSWER_TOKENS (the smaller wins). */
  readonly answerTokensPerTurn: number;
  /** UTF-8 bytes of prompts and answers POST /chat/store may keep per UTC day. */
  readonly storedBytesPerDay: number;
}

/** The quota window: fixed windows of 3 h, as the plans are worded ("50 prompts every 3 hours"). */
export const DEFAULT_QUOTA_WINDOW_SECONDS = 3 * 3600;

export const ENTITLEMENTS: Readonly<Record<Tier, Entitlement>> = {
  free: {
    sheddable: true,
    serverCeiling: 'shed_threshold',
    usesReservedServers: false,
    heldForRoom: false,
    // A full server's refusal costs milliseconds, but free tier is not worth a long chase.
    serverAttempts: 2,
    backoff: 'exponential',
    promptsPerWindow: 50,
    concurrentStreams: 2,
    // A person reads an answer (~8 s at 50 tokens/s) before the next prompt: 10 a minute is faster than
    // anyone reads, and stops a script from spending the window in seconds.
    promptsPerMinute: 10,
    // Today's MAX_ANSWER_TOKENS: free answers keep their length.
    answerTokensPerTurn: 1_024,
    // ≈ 500 typical turns (4 KB) or 20 of the longest answers /chat/store takes (100,000 characters) a day;
    // the abuse wrote 20 MB in 2 s.
    storedBytesPerDay: 2_000_000,
  },
  premium: {
    sheddable: false,
    serverCeiling: 'safe_limit',
    usesReservedServers: true,
    heldForRoom: true,
    // A burst of free prompts that filled the chosen servers between two heartbeats must not cost a
    // premium user the answer.
    serverAttempts: 4,
    backoff: 'linear',
    promptsPerWindow: 500,
    concurrentStreams: 6,
    // Six streams of ~8 s each allow ~45 a minute; 30 lets parallel tabs and tools work, not a flood of
    // short prompts.
    promptsPerMinute: 30,
    // Longer answers once the operator raises MAX_ANSWER_TOKENS (and MAX_TURN_SECONDS with it).
    answerTokensPerTurn: 4_096,
    storedBytesPerDay: 20_000_000,
  },
};
