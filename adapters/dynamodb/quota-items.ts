/**
 * The quota items of the chat table (the layout beside chat-items.ts), in the user's partition:
 *
 * Prompt window: sk = QUOTA#<window start, epoch ms>, prompts (N), streams (N), one s_<slot id> per stream
 *                slot (N: epoch ms its lease ends), one b_<epoch minute> per recent minute (N: prompts
 *                in it), expires_at (epoch s, the table's TTL: after the window and its last streams).
 * Stored bytes:  sk = STORED#<UTC day start, epoch ms>, bytes (N), expires_at (epoch s).
 *
 * No `conv`, no `inflight`, no TURN# prefix: never in history, a conversation or the sweeper's index.
 */
import type { StreamSlot } from '../../domain/ports';

export const quotaSortKey = (windowStart: number) => `QUOTA#${windowStart}`;
export const storedBytesSortKey = (dayStart: number) => `STORED#${dayStart}`;

const SLOT_PREFIX = 's_';
const BURST_PREFIX = 'b_';

/** A slot's attribute: its name carries the slot id, so a release or refund is idempotent on it. */
export const slotAttribute = (slot: Pick<StreamSlot, 'id'>) => `${SLOT_PREFIX}${slot.id}`;
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
