/**
 * Read repair for turns whose process died mid-stream. The sweeper writes `interrupted` once the dead
 * turn's quota window is over (up to a window later), or the user's next grant that drops the turn's
 * expired slot does; until then, a turn still in_progress after the longest a stream can last is shown as
 * what it is. Pure: nothing is written, and the stored turn keeps its in_progress record for the sweeper.
 */
import type { Turn } from './turn';

export interface ReadRepair {
  readonly now: number;
  /** Older than this, an in_progress turn cannot be streaming any more (INTERRUPTED_AFTER_SECONDS). */
  readonly interruptedAfterMs: number;
}

/** The turn as it is read: an in_progress turn past any stream's end is `interrupted`. */
export function asRead(turn: Turn, repair: ReadRepair): Turn {
  if (turn.status !== 'in_progress') return turn;
  if (repair.now - Date.parse(turn.createdAt) <= repair.interruptedAfterMs) return turn;
  const { stopInbox: _nothingToStop, ...ended } = turn;
  return { ...ended, status: 'interrupted', errorCode: 'interrupted' };
}
