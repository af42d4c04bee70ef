/** The quota's ports (re-exported by ports.ts): its counters, and its stream slots as crash evidence. */
import type { PromptLimits } from './quota';

/** A stream slot a granted prompt holds in its window's counter until its turn ends. */
export interface StreamSlot {
  readonly windowStart: number;
  readonly id: string;
  /** The burst bucket it was counted in (a refund gives it back only within that minute). */
  readonly minute: number;
}

export type QuotaDecision =
  | {
      readonly granted: true;
      readonly slot: StreamSlot;
      /** The window's prompts, this one included. */
      readonly prompts: number;
      /**
       * Ids of slots this grant dropped because their lease ran out unreleased: their turns' processes
       * died, so those turns are interrupted.
       */
      readonly abandoned?: readonly string[];
    }
  | {
      readonly granted: false;
      readonly reason: 'window' | 'burst' | 'streams';
      readonly prompts: number;
      readonly retryAfterMs: number;
    };

/**
 * Per-user counters in the chat table (adapters/dynamodb/quota-counter.ts): prompts per window and per
 * minute, streams at once, stored bytes per day. Each grant is one conditional write; nothing here
 * touches the fleet.
 */
export interface QuotaCounter {
  /**
   * Counts a prompt and takes a stream slot `slotId` (the id of the turn it streams, so an unreleased slot
   * names its turn), both only if every limit still has room.
   */
  acquire(userId: string, slotId: string, limits: PromptLimits, now: number): Promise<QuotaDecision>;
  /** The slot's stream ended. Idempotent; a slot already expired or released is left alone. */
  release(userId: string, slot: StreamSlot): Promise<void>;
  /** The prompt was refused or replayed after it was counted: it consumes nothing. Idempotent. */
  refund(userId: string, slot: StreamSlot, now: number): Promise<void>;
  /** Adds `bytes` to today's stored bytes only if they stay within `limitBytes`. */
  addStoredBytes(
    userId: string,
    bytes: number,
    limitBytes: number,
    now: number,
  ): Promise<{ readonly granted: true } | { readonly granted: false; readonly retryAfterMs: number }>;
  /** Gives back bytes counted for a store that wrote nothing (a duplicate, a conflict). */
  refundStoredBytes(userId: string, bytes: number, now: number): Promise<void>;
}

/** A stream slot still held: its turn's id (the slot id) and its owner. */
export interface HeldSlot {
  readonly userId: string;
  readonly id: string;
}

/**
 * The quota windows' stream slots as crash evidence (adapters/dynamodb/stream-leases.ts): a release
 * deletes its slot, so a slot still held once its window's every lease is over was never released.
 */
export interface StreamLeases {
  /**
   * Slots still held on windows whose last lease ended within [from, to] (epoch ms), any user; eventually
   * consistent (a turn is only ever interrupted conditionally).
   */
  heldAfterWindowsEnded(from: number, to: number): Promise<HeldSlot[]>;
  /** Every slot still held on any window (local start-up: the data is small). */
  allHeld(): Promise<HeldSlot[]>;
}
