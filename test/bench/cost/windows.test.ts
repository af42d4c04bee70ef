import { describe, expect, it } from 'vitest';
import { emptyTotals } from '../../../bench/cost/dynamodb-totals';
import {
  LEASES_TARGET,
  SWEEPS_PER_WINDOW,
  sweeperWindowReads,
  windowOpeningShare,
  withUnits,
} from '../../../bench/cost/windows';

describe('a quota window beyond the measured turns', () => {
  const opening = withUnits(
    withUnits(emptyTotals(), 'ChatTable', { requests: 8, rru: 5, wru: 7 }),
    LEASES_TARGET,
    {
      requests: 0,
      rru: 0,
      wru: 1,
    },
  );

  it('gives each turn its share of the opening index write, and no request', () => {
    expect(windowOpeningShare(opening, emptyTotals(), 5)).toEqual({ requests: 0, rru: 0, wru: 0.2 });
    expect(windowOpeningShare(opening, emptyTotals(), 1)).toEqual({ requests: 0, rru: 0, wru: 1 });
  });

  it('charges nothing when the measured turns already write the index as much as the opening', () => {
    expect(windowOpeningShare(opening, opening, 5).wru).toBe(0);
  });

  it('adds units to the sums and to their target, leaving the input as it was', () => {
    const added = withUnits(opening, LEASES_TARGET, { requests: 1, rru: 2, wru: 0.5 });
    expect(added).toMatchObject({ requests: 9, rru: 7, wru: 8.5 });
    expect(added.byTarget[LEASES_TARGET]).toEqual({ requests: 1, rru: 2, wru: 1.5 });
    expect(opening.byTarget[LEASES_TARGET]).toEqual({ requests: 0, rru: 0, wru: 1 });
  });

  it('has the sweeper read each window of the day once per look-back, items rounded up to 4 KB', () => {
    const reads = sweeperWindowReads({
      windowsPerDay: 1_000_000,
      windowItemBytes: 300,
      indexEntryBytes: 100,
    });
    const windowReads = 1_000_000 * SWEEPS_PER_WINDOW;
    expect(reads.table).toEqual({ requests: windowReads / 100, rru: windowReads * 0.5, wru: 0 });
    expect(reads.index.rru).toBe(0.5 * Math.ceil((windowReads * 100) / 4096));
    expect(reads.index.requests).toBe(Math.ceil((windowReads * 100) / (1024 * 1024)));
    // A window item past 4 KB costs a unit per 4 KB.
    expect(
      sweeperWindowReads({ windowsPerDay: 1, windowItemBytes: 5000, indexEntryBytes: 100 }).table.rru,
    ).toBe(SWEEPS_PER_WINDOW * 1);
  });
});
