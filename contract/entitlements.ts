/**
 * What each tier is entitled to, in one table (in the spirit of vercel/ai-chatbot's entitlements.ts).
 * Admission (domain/fleet.ts), routing (use-cases/fleet-gate.ts) and the Retry-After (backoff) read it;
 * nothing else asks which tier a caller is. Numbers that are deployment settings (thresholds, the hold's
 * length, the backoff's seconds) stay settings; this says which of them a tier gets.
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
}

export const ENTITLEMENTS: Readonly<Record<Tier, Entitlement>> = {
  free: {
    sheddable: true,
    serverCeiling: 'shed_threshold',
    usesReservedServers: false,
    heldForRoom: false,
    // A full server's refusal costs milliseconds, but free tier is not worth a long chase.
    serverAttempts: 2,
    backoff: 'exponential',
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
  },
};
