/** A caller's plan; it picks the backoff policy and the share of the fleet a prompt may use. */
export type Tier = 'free' | 'premium';

/** Every state a turn is stored and listed in; the history API sends these verbatim. */
export const TURN_STATUSES = ['in_progress', 'completed', 'failed', 'stopped', 'interrupted'] as const;

export type TurnStatus = (typeof TURN_STATUSES)[number];

/** A turn that will not change any more. */
export type FinalTurnStatus = Exclude<TurnStatus, 'in_progress'>;

const STATUS_SET: ReadonlySet<string> = new Set(TURN_STATUSES);

export function isTurnStatus(value: unknown): value is TurnStatus {
  return typeof value === 'string' && STATUS_SET.has(value);
}

export function isFinalTurnStatus(value: unknown): value is FinalTurnStatus {
  return isTurnStatus(value) && value !== 'in_progress';
}
