/**
 * The fleet heartbeat: one invocation per shard (the scheduled event carries `{ "shard": k }`) scrapes the
 * /metrics of the servers the registry gives that shard, and writes the shard's view (its server loads
 * plus the replicated fleet-wide mode, use-cases/heartbeat-tick.ts) every HEARTBEAT_INTERVAL_SECONDS.
 *
 * Scale: FLEET_SHARDS workers each own 1/FLEET_SHARDS of the fleet (domain/fleet-shards.ts); at 2,300
 * servers and 64 shards a worker scrapes ~36 servers in parallel, well inside one interval, and writes one
 * ~2.4 KB item (5 WCU) per tick. Nothing here grows with the fleet: the servers come from the registry table
 * (npm run fleet), not from the environment.
 *
 * Why a loop inside the invocation. EventBridge schedules fire at most once a minute, so a sub-minute
 * heartbeat needs either a loop inside one invocation per minute or a Step Functions wait loop. List prices
 * (us-east-1, arm64), 730 h = 2,628,000 s a month, a 1 s interval:
 * - Loop in Lambda (chosen): billed for the whole minute whatever the interval.
 *   128 MB: 0.125 GB × 2,628,000 s = 328,500 GB-s × $0.0000133334 = $4.38 a month;
 *   256 MB: 657,000 GB-s = $8.76 a month. Each run lasts HEARTBEAT_RUN_SECONDS (70 s) for a 60 s schedule
 *   (see the overlap below): × 7/6 → $5.11 (128 MB) / $10.22 (256 MB). Invocations: 43,800 → $0.01.
 * - Step Functions Standard wait loop: Wait → Task (Lambda) → Choice = 3 state transitions a tick,
 *   7.9 M a month × $0.025 / 1,000 = $197 a month (even 2 transitions: $131), plus 2.6 M Lambda
 *   invocations ($0.53 + ~$0.45 of duration), plus continue-as-new every few hours (25,000-event history).
 * - Step Functions Express: 5-minute executions, billed by duration (64 MB: 164,250 GB-s × $0.00001667 =
 *   $2.74) plus the same 2.6 M Lambda invocations (~$1), and a handover problem every 5 minutes like ours.
 * The Lambda loop costs about as much as Express and 20-40 times less than Standard, is one function and
 * one rule, and keeps the connections (HTTP keep-alive to the servers, DynamoDB) warm between ticks.
 * DynamoDB costs the same either way: per shard and tick one view write (≈ 3 WCU for 36 servers), one
 * consistent read of its own view and one batch read of every shard's totals (0.5 RCU each).
 *
 * Overlap. Scheduled rules fire "within the minute", not on its 0th second, and asynchronous invocation
 * adds its own delay, while the chat function trusts a view less once it is older than
 * SERVER_STALE_SECONDS. So one run ticks for 70 s, not 60: consecutive runs overlap by ~10 s, and the
 * view's conditional write (version) keeps two loops from corrupting it (use-cases/heartbeat-tick.ts). The loop
 * also stops while it still has interval + 2 s before the function's time-out.
 *
 * Interval. Default 0.5 s (domain/fleet.ts DEFAULT_HEARTBEAT_INTERVAL_SECONDS), on AWS as locally:
 * admission acts on a view about two intervals old, corrected by each server's completion rate; measured
 * by bench:overload, 1 s left 6 % of slots idle under overload and 0.5 s 1 %. At 5 s, five seconds of
 * arrivals would pass the thresholds unseen. Lambda costs the same at any interval (it runs the whole
 * minute); only the DynamoDB bill above scales with 1/interval (≈ $17 a month at 0.5 s for 4 servers).
 *
 * A tick is bounded: every DynamoDB call has connect and request time-outs that abort, and the whole tick
 * is aborted after HEARTBEAT_TICK_TIMEOUT_MS (4 intervals, at least 2 s), so a hung call costs one tick.
 *
 * Settings (settings/settings.ts, read once per process): FLEET_SHARDS, HEARTBEAT_INTERVAL_SECONDS, the
 * fleet thresholds, SERVER_STALE_SECONDS (3 × interval), HEARTBEAT_RUN_SECONDS (70), HEARTBEAT_PROBE_TIMEOUT_MS
 * (interval / 2 within 250–500), REGISTRY_REFRESH_SECONDS (2), HEARTBEAT_TICK_TIMEOUT_MS (4 × interval, ≥ 2 s);
 * the worker for a shard is wired in functions/wiring/heartbeat.ts.
 */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import type { FleetMode, FleetState } from '../../domain/fleet';
import type { HeartbeatDeps, HeartbeatWorker } from '../../use-cases/heartbeat-tick';

/** The loop stops when less than interval + this remains before the function's time-out. */
export const TIMEOUT_MARGIN_MS = 2_000;

export interface HeartbeatLoopDeps {
  readonly worker: Pick<HeartbeatWorker, 'tick'>;
  readonly clock: HeartbeatDeps['clock'];
  readonly log: HeartbeatDeps['log'];
  readonly intervalMs: number;
  /**
   * Offset of this worker's ticks within the interval: shard k of n ticks at k/n of it, so 64 workers do
   * not scrape, read and write all at the same instant. Default 0.
   */
  readonly phaseMs?: number;
  /** A tick still running after this is aborted (its calls with it) and counted as failed. */
  readonly tickTimeoutMs: number;
  /** Called with each new view (metrics); optional so tests need not care. */
  readonly onState?: (state: FleetState) => void;
  /** Waits between ticks; tests pass one that advances their fake clock. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Aborting it ends the loop after the current tick (local runtime shutdown). */
  readonly signal?: AbortSignal;
}

export interface HeartbeatRunResult {
  readonly ticks: number;
  readonly failures: number;
}

/**
 * Ticks, then sleeps until the next interval boundary (epoch-aligned, plus the worker's phase), until `until(nextTickAt)` says
 * stop or the signal aborts. A failed or hung tick is logged and the loop goes on: the next one may
 * succeed, and throwing would make Lambda retry the invocation on top of the next scheduled one.
 */
export async function runHeartbeat(
  deps: HeartbeatLoopDeps,
  until: (nextTickAt: number) => boolean,
): Promise<HeartbeatRunResult> {
  const wait = deps.sleep ?? defaultSleep;
  let ticks = 0;
  let failures = 0;
  while (!deps.signal?.aborted) {
    const deadline = new AbortController();
    // One tick's calls all listen to it (a registry read is one query per bucket).
    setMaxListeners(256, deadline.signal);
    const timer = setTimeout(
      () => deadline.abort(new Error(`heartbeat tick exceeded ${deps.tickTimeoutMs} ms`)),
      deps.tickTimeoutMs,
    );
    try {
      const state = await abortable(deps.worker.tick(deadline.signal), deadline.signal);
      deps.onState?.(state);
    } catch (error) {
      failures++;
      deps.log.error('heartbeat tick failed', {
        error: error instanceof Error ? error.name : 'unknown',
        detail: error instanceof Error ? error.message : String(error),
      });
    } finally {
      clearTimeout(timer);
    }
    ticks++;
    const now = deps.clock.now();
    const phase = deps.phaseMs ?? 0;
    const nextTickAt = (Math.floor((now - phase) / deps.intervalMs) + 1) * deps.intervalMs + phase;
    if (deps.signal?.aborted || until(nextTickAt)) break;
    await wait(nextTickAt - now, deps.signal);
  }
  return { ticks, failures };
}

/** Settles when the work does or the signal aborts, whichever is first (a call that ignores its signal). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
}

/** Fleet load and mode as metrics: at every mode change, else every `periodMs` (a minute holds several points). */
export function fleetMetricsEvery(
  periodMs: number,
  recordFleet: (mode: FleetMode, load: number) => void,
): (state: FleetState) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastMode: FleetMode | undefined;
  return (state) => {
    if (state.mode === lastMode && state.updatedAt - lastAt < periodMs) return;
    lastAt = state.updatedAt;
    lastMode = state.mode;
    // Every shard carries the same fleet-wide mode: shard 0 alone reports it, so it is not counted 64 times.
    if (state.shard === 0) recordFleet(state.mode, state.load);
  };
}

/** A worker's loop, its run length and what it logs with: all a scheduled invocation needs. */
export type ShardHeartbeat = HeartbeatLoopDeps & { readonly runForMs: number };

/** The scheduled event: which shard this invocation works for (one EventBridge target per shard). */
export interface HeartbeatEvent {
  readonly shard?: number;
}

/**
 * One scheduled invocation: about a minute (plus overlap) of ticks for one shard. A container serves
 * one shard at a time; a warm one keeps its worker (registry cache, totals), built by `forShard`.
 */
export function scheduledHeartbeat(forShard: (shard: number) => ShardHeartbeat) {
  const workers = new Map<number, ShardHeartbeat>();
  return async (
    event: HeartbeatEvent | undefined,
    context: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<HeartbeatRunResult> => {
    const shard = event?.shard ?? 0;
    let deps = workers.get(shard);
    if (!deps) {
      deps = forShard(shard);
      workers.set(shard, deps);
    }
    const startedAt = deps.clock.now();
    const { runForMs, intervalMs, clock } = deps;
    const result = await runHeartbeat(deps, (nextTickAt) => {
      const remainingAtNextTick = context.getRemainingTimeInMillis() - (nextTickAt - clock.now());
      return nextTickAt - startedAt >= runForMs || remainingAtNextTick < intervalMs + TIMEOUT_MARGIN_MS;
    });
    deps.log.info('heartbeat run ended', { ...result, shard });
    return result;
  };
}
