/**
 * What the quota windows cost beyond the measured turns, which are all granted in a window opened
 * before them (computed from measured pieces, named here):
 * - a window's first grant writes its `byLeases` entry, measured in the `window-opening` phase; a turn
 *   carries 1 / `turnsPerWindow` of that write;
 * - the sweeper reads each window once per look-back after it ends (its schedule looks back twice its
 *   interval): at the target that is every window of the day, which the local measurement (a handful
 *   of windows) cannot show. Its Query reads the keys-only entries, its BatchGetItem the window items,
 *   eventually consistent (functions/sweep-turns.ts, adapters/dynamodb/stream-leases.ts).
 */
import { LEASE_INDEX } from '../../adapters/dynamodb/quota-items';
import type { DynamoDbTotals, Units } from './dynamodb-totals';

export const LEASES_TARGET = `ChatTable.${LEASE_INDEX}`;

/** How many times the sweeper reads each window: its look-back over its interval. */
export const SWEEPS_PER_WINDOW = 2;
/** DynamoDB's BatchGetItem reads at most this many items per request. */
const BATCH_GET_ITEMS = 100;
/** A Query returns at most 1 MB per page. */
const QUERY_PAGE_BYTES = 1024 * 1024;
/** Eventually consistent reads cost half a unit per 4 KB. */
const eventualReadUnits = (bytes: number) => 0.5 * Math.max(1, Math.ceil(bytes / 4096));

/** `totals` with `units` added to `target` and to the sums. */
export function withUnits(totals: DynamoDbTotals, target: string, units: Units): DynamoDbTotals {
  const entry = totals.byTarget[target] ?? { requests: 0, rru: 0, wru: 0 };
  return {
    ...totals,
    requests: totals.requests + units.requests,
    rru: totals.rru + units.rru,
    wru: totals.wru + units.wru,
    byTarget: {
      ...totals.byTarget,
      [target]: {
        requests: entry.requests + units.requests,
        rru: entry.rru + units.rru,
        wru: entry.wru + units.wru,
      },
    },
  };
}

/**
 * A turn's share of its window's opening: the index units the opening turn wrote, beyond what a later
 * turn of the window writes there, over the turns a window holds. No request: the grant is the same write.
 */
export function windowOpeningShare(
  opening: DynamoDbTotals,
  turn: DynamoDbTotals,
  turnsPerWindow: number,
): Units {
  const extra = (opening.byTarget[LEASES_TARGET]?.wru ?? 0) - (turn.byTarget[LEASES_TARGET]?.wru ?? 0);
  return { requests: 0, rru: 0, wru: Math.max(0, extra) / turnsPerWindow };
}

/** The sweeper's reads of a day of windows: the index's entries by Query, the window items by BatchGetItem. */
export function sweeperWindowReads(input: {
  readonly windowsPerDay: number;
  readonly windowItemBytes: number;
  readonly indexEntryBytes: number;
}): { readonly index: Units; readonly table: Units } {
  const reads = input.windowsPerDay * SWEEPS_PER_WINDOW;
  const entryBytes = reads * input.indexEntryBytes;
  return {
    index: {
      requests: Math.ceil(entryBytes / QUERY_PAGE_BYTES),
      // A Query's units are its items' summed size, rounded up per page of 4 KB: about size / 4 KB.
      rru: 0.5 * Math.ceil(entryBytes / 4096),
      wru: 0,
    },
    table: {
      requests: Math.ceil(reads / BATCH_GET_ITEMS),
      // BatchGetItem rounds each item up to 4 KB.
      rru: reads * eventualReadUnits(input.windowItemBytes),
      wru: 0,
    },
  };
}
