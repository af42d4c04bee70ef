/**
 * The quota items of the chat table (the layout beside chat-items.ts), in the user's partition:
 *
 * Prompt window: sk = QUOTA#<window start, epoch ms>, prompts (N), streams (N), one s_<slot id> per stream
 *                slot (N: epoch ms its lease ends; the slot id is its turn's id, so a slot names its
 *                TURN# item), one b_<epoch minute> per recent minute (N: prompts in it),
 *                leases (= LEASES#<shard of the user id>, byLeases pk) and sweep_at (N, epoch ms: the
 *                window's end plus the longest lease plus the user's offset in SWEEP_SPREAD_MS, byLeases
 *                sort key), both set at the window's first
 *                grant only, expires_at (epoch s, the table's TTL: an hour after sweep_at, so the sweeper
 *                reads the item before TTL may delete it).
 * Stored bytes:  sk = STORED#<UTC day start, epoch ms>, bytes (N), expires_at (epoch s).
 *
 * No `conv`, no TURN# prefix: never in history or a conversation. Only windows are in byLeases.
 */
import { createHash } from 'node:crypto';
import type { StreamSlot } from '../../domain/ports';
import { LEASE_SHARDS } from '../../lib/resources';

export const LEASE_INDEX = 'byLeases';
const QUOTA_PREFIX = 'QUOTA#';
const LEASES_PREFIX = 'LEASES#';

export const leaseShardKey = (shard: number) => `${LEASES_PREFIX}${shard}`;

/** The byLeases shard of a user's windows: a hash of the user id, so the shards share the writes. */
export function leaseShardOf(userId: string): string {
  return leaseShardKey(createHash('sha256').update(userId).digest().readUInt16BE(0) % LEASE_SHARDS);
}

/** How long after `sweep_at` a window item is kept: the sweeper has this long to read it before TTL may. */
export const SWEEP_GRACE_MS = 3_600_000;

/**
 * Windows are fixed (every user's 09:00–12:00 ends at 12:00), so the sweeps of one window end are spread
 * over this long by user, a window's length: the sweeper reads about as many windows each minute, not the
 * millions that end together at once.
 */
export const SWEEP_SPREAD_MS = 3 * 3_600_000;

/** The user's place in the spread: a hash, independent of its lease shard. */
const spreadOffset = (userId: string) =>
  createHash('sha256').update(userId).digest().readUInt32BE(4) % SWEEP_SPREAD_MS;

/**
 * When the sweeper reads a window (byLeases sort key): once every slot it granted is over (its end plus
 * the longest lease), at the user's offset in the spread.
 */
export const sweepAt = (userId: string, windowStart: number, windowMs: number, streamLeaseMs: number) =>
  windowStart + windowMs + streamLeaseMs + spreadOffset(userId);

export const quotaSortKey = (windowStart: number) => `${QUOTA_PREFIX}${windowStart}`;
export const storedBytesSortKey = (dayStart: number) => `STORED#${dayStart}`;

const SLOT_PREFIX = 's_';
const BURST_PREFIX = 'b_';

/** A slot's attribute: its name carries the slot id, so a release or refund is idempotent on it. */
export const slotAttribute = (slot: Pick<StreamSlot, 'id'>) => `${SLOT_PREFIX}${slot.id}`;
/** The slot id a slot attribute names. */
export const slotIdOf = (attribute: string) => attribute.slice(SLOT_PREFIX.length);
export const burstAttribute = (minute: number) => `${BURST_PREFIX}${minute}`;

/**
 * Minutes before the current one whose burst counters each grant removes: the item keeps at most one
 * stale counter per pause longer than this, so it stays within one write unit.
 */
export const BURST_MINUTES_CLEARED = 5;

export interface QuotaItemState {
  readonly prompts: number;
  readonly streams: number;
  /** Slot attribute → epoch ms its lease ends. */
  readonly slots: ReadonlyMap<string, number>;
  readonly burst: (minute: number) => number;
}

/** What a window item holds (an absent item holds nothing). */
export function quotaItemState(item: Record<string, unknown> | undefined): QuotaItemState {
  const slots = new Map<string, number>();
  for (const [name, value] of Object.entries(item ?? {})) {
    if (name.startsWith(SLOT_PREFIX) && typeof value === 'number') slots.set(name, value);
  }
  const number = (name: string) => {
    const value = item?.[name];
    return typeof value === 'number' ? value : 0;
  };
  return {
    prompts: number('prompts'),
    streams: number('streams'),
    slots,
    burst: (minute) => number(burstAttribute(minute)),
  };
}
