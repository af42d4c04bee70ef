/**
 * A heartbeat worker's loop in virtual time, as functions/run-heartbeat.ts runs it (tick with a deadline
 * signal, count a failed or hung tick and go on, sleep to the next boundary) but with a phase offset per
 * shard, so the 64 workers do not all tick at the same instant.
 */
import type { FleetState } from '../../domain/fleet';
import type { HeartbeatWorker } from '../../use-cases/heartbeat-tick';
import { Histogram } from './histogram';
import type { VirtualTime } from './virtual-time';

export class HeartbeatStats {
  ticks = 0;
  readonly failures: Record<string, number> = {};
  /** Whole tick (registry, scrape, totals, write), ms. */
  readonly tickMs = new Histogram(0.1, 60_000);
  /** Per tick, the time its scrape of all its servers took (the slowest scrape), ms. */
  readonly scrapeMs = new Histogram(0.1, 10_000);
  /** The last view each shard wrote, for the samplers. */
  readonly lastViews = new Map<number, FleetState>();

  failureCount(): number {
    return Object.values(this.failures).reduce((sum, n) => sum + n, 0);
  }
}

export interface WorkerLoopDeps {
  readonly shard: number;
  readonly worker: Pick<HeartbeatWorker, 'tick'>;
  readonly time: VirtualTime;
  readonly intervalMs: number;
  /** Offset of this worker's ticks within the interval. */
  readonly phaseMs: number;
  readonly tickTimeoutMs: number;
  /** No tick starts at or after this instant. */
  readonly until: number;
  readonly stats: HeartbeatStats;
}

export async function runWorkerLoop(deps: WorkerLoopDeps): Promise<void> {
  const { time, intervalMs, phaseMs, stats } = deps;
  const nextBoundary = (now: number) => Math.floor((now - phaseMs) / intervalMs + 1) * intervalMs + phaseMs;
  await time.sleepUntil(nextBoundary(time.now()));
  while (time.now() < deps.until) {
    const startedAt = time.now();
    const deadline = time.timeoutSignal(deps.tickTimeoutMs);
    try {
      const state = await abortable(deps.worker.tick(deadline.signal), deadline.signal);
      stats.lastViews.set(deps.shard, state);
    } catch (error) {
      const name = error instanceof Error ? error.name : 'unknown';
      stats.failures[name] = (stats.failures[name] ?? 0) + 1;
    } finally {
      deadline.dispose();
    }
    stats.ticks++;
    stats.tickMs.add(time.now() - startedAt);
    await time.sleepUntil(nextBoundary(time.now()));
  }
}

/** Settles when the work does or the signal aborts, whichever is first (as run-heartbeat.ts does). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
