import { errorName } from '../domain/errors';
import { ulidTime } from '../domain/ids';
import type { Clock, HeldSlot, Log, StopInboxSweeper, StreamLeases, TurnRepository } from '../domain/ports';

export interface SweepDeps {
  readonly leases: StreamLeases;
  readonly repository: Pick<TurnRepository, 'interruptTurn'>;
  readonly clock: Clock;
  readonly log: Log;
}

/**
 * Marks `interrupted` the turns whose process died mid-stream (a Lambda time-out or crash): their stream
 * slot was never released, and it is still on a quota window whose every lease has ended. Stateless: each
 * run looks back `lookBackMs` (more than its schedule, so a late or failed run is covered by the next);
 * a window seen twice costs a refused conditional write, never a second mark. The condition also keeps
 * a turn that ended on its own: its slot outlived it only because its release failed.
 */
export async function sweepInterruptedTurns(deps: SweepDeps, lookBackMs: number): Promise<number> {
  const now = deps.clock.now();
  return interrupt(deps, await deps.leases.heldAfterWindowsEnded(now - lookBackMs, now));
}

/**
 * Locally, at start-up: every slot of a turn created before this process started belongs to a process
 * that is gone (nothing else streams here), whether or not its window has ended. Turns begun since (the
 * gateway already listens) are live.
 */
export async function sweepTurnsOfDeadProcess(deps: SweepDeps, startedAt: number): Promise<number> {
  const slots = await deps.leases.allHeld();
  return interrupt(
    deps,
    slots.filter((slot) => (ulidTime(slot.id) ?? Number.POSITIVE_INFINITY) < startedAt),
  );
}

/** Interrupts the slots' turns still in_progress; how many it marked. */
export async function interrupt(
  deps: Omit<SweepDeps, 'leases'>,
  slots: readonly HeldSlot[],
): Promise<number> {
  let marked = 0;
  for (const slot of slots) {
    const at = new Date(deps.clock.now()).toISOString();
    if (await deps.repository.interruptTurn(slot.userId, slot.id, at)) {
      marked++;
      deps.log.info('turn marked interrupted', { message_id: slot.id });
    }
  }
  return marked;
}

/**
 * Deletes stop inboxes no container can still be using: containers rotate theirs hourly
 * (`rotateAfterMs`), so one older than twice that belongs to a container that is gone. A failure is
 * logged, not thrown: stray inboxes cost nothing and the next sweep tries again.
 */
export async function sweepStopInboxes(
  deps: { inboxes: StopInboxSweeper; clock: Clock; log: Log },
  rotateAfterMs: number,
): Promise<number> {
  try {
    return await deps.inboxes.deleteOlderThan(deps.clock.now(), 2 * rotateAfterMs);
  } catch (error) {
    deps.log.warn('stop inbox sweep failed', { error: errorName(error) });
    return 0;
  }
}
