/**
 * The fleet heartbeat: scrapes every inference server's /metrics and writes the fleet table (server loads
 * and the fleet state the chat function admits and routes with), every HEARTBEAT_INTERVAL_SECONDS.
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
 * DynamoDB costs the same either way: (servers + 1) writes and one consistent read a tick; 4 servers at
 * 1 s: 13.1 M WRU × $0.625/M + 2.6 M RRU × $0.125/M ≈ $8.5 a month (≈ $1.7 at 5 s).
 *
 * Overlap. Scheduled rules fire "within the minute", not on its 0th second, and asynchronous invocation
 * adds its own delay, while the chat function refuses everyone once the fleet state is older than
 * SERVER_STALE_SECONDS (3 s). So one run ticks for 70 s, not 60: consecutive runs overlap by ~10 s, and the
 * state's conditional write (version) keeps two loops from corrupting it (domain/heartbeat.ts). The loop
 * also stops while it still has interval + 2 s before the function's time-out.
 *
 * Interval. Default 0.5 s (domain/fleet.ts DEFAULT_HEARTBEAT_INTERVAL_SECONDS), on AWS as locally:
 * admission acts on a view about two intervals old, corrected by each server's completion rate; measured
 * by bench:overload, 1 s left 6 % of slots idle under overload and 0.5 s 1 %. At 5 s, five seconds of
 * arrivals would pass the thresholds unseen. Lambda costs the same at any interval (it runs the whole
 * minute); only the DynamoDB bill above scales with 1/interval (≈ $17 a month at 0.5 s for 4 servers).
 *
 * Environment, read once at cold start: INFERENCE_SERVERS (adapters/fleet/server-registry.ts),
 * FLEET_TABLE_NAME, HEARTBEAT_INTERVAL_SECONDS (1), SHED_FREE_AT (0.8), SATURATED_AT (1.0),
 * FREE_COOLDOWN_SECONDS (120), SERVER_STALE_SECONDS (3 × interval), DEFAULT_SERVER_CAPACITY (10),
 * HEARTBEAT_RUN_SECONDS (70), HEARTBEAT_PROBE_TIMEOUT_MS (500).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbFleetRepository } from '../adapters/dynamodb/fleet-repository';
import { MetricsLoadProbe } from '../adapters/fleet/metrics-load-probe';
import { parseFleetServers } from '../adapters/fleet/server-registry';
import type { FleetMode, FleetState } from '../domain/fleet';
import { type HeartbeatDeps, runHeartbeatTick } from '../domain/heartbeat';
import { systemClock } from '../domain/ports';
import { fleetTable } from '../lib/resources';
import { getNumberFromEnv, getStringFromEnv } from './commons/env';
import { fleetPolicyFromEnv, heartbeatIntervalMs } from './commons/fleet-policy';
import { logger } from './commons/logger';
import { recordFleet } from './commons/metrics';
import { withLogging } from './commons/middleware';

/** The thresholds, shared with the chat function (which imports them from commons/fleet-policy). */
export { fleetPolicyFromEnv, heartbeatIntervalMs };

/**
 * Concurrent sequences a server may hold when INFERENCE_SERVERS gives no `|capacity`: 8 batch slots (the
 * local fleet's default) plus 2 queued. Conservative for a large GPU: set each server's own.
 */
export const DEFAULT_SERVER_CAPACITY = 10;
/** One run per minute plus ~10 s of overlap with the next (see the top comment). */
export const DEFAULT_RUN_SECONDS = 70;
/** The loop stops when less than interval + this remains before the function's time-out. */
export const TIMEOUT_MARGIN_MS = 2_000;

export interface HeartbeatLoopDeps extends HeartbeatDeps {
  readonly intervalMs: number;
  /** Called with each new fleet state (metrics); optional so tests need not care. */
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
 * Ticks, then sleeps until the next interval boundary (epoch-aligned), until `until(nextTickAt)` says
 * stop or the signal aborts. A failed tick is logged and the loop goes on: the next one may succeed, and
 * throwing would make Lambda retry the invocation on top of the next scheduled one.
 */
export async function runHeartbeat(
  deps: HeartbeatLoopDeps,
  until: (nextTickAt: number) => boolean,
): Promise<HeartbeatRunResult> {
  const wait = deps.sleep ?? defaultSleep;
  let ticks = 0;
  let failures = 0;
  while (!deps.signal?.aborted) {
    try {
      const state = await runHeartbeatTick(deps);
      deps.onState?.(state);
    } catch (error) {
      failures++;
      deps.log.error('heartbeat tick failed', {
        error: error instanceof Error ? error.name : 'unknown',
        detail: error instanceof Error ? error.message : String(error),
      });
    }
    ticks++;
    const now = deps.clock.now();
    const nextTickAt = (Math.floor(now / deps.intervalMs) + 1) * deps.intervalMs;
    if (deps.signal?.aborted || until(nextTickAt)) break;
    await wait(nextTickAt - now, deps.signal);
  }
  return { ticks, failures };
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
}

/** Everything the loop needs, from the environment. Throws, naming the variable, on a malformed value. */
export function heartbeatDepsFromEnv(): HeartbeatLoopDeps & { readonly runForMs: number } {
  const intervalMs = heartbeatIntervalMs();
  return {
    servers: parseFleetServers(
      getStringFromEnv('INFERENCE_SERVERS'),
      getNumberFromEnv('DEFAULT_SERVER_CAPACITY', DEFAULT_SERVER_CAPACITY),
    ),
    probe: new MetricsLoadProbe({
      clock: systemClock,
      timeoutMs: getNumberFromEnv('HEARTBEAT_PROBE_TIMEOUT_MS', Math.min(500, intervalMs / 2)),
      log: logger,
    }),
    fleet: new DynamoDbFleetRepository(documentClient, tableNameFromEnv(fleetTable)),
    clock: systemClock,
    policy: fleetPolicyFromEnv(),
    log: logger,
    intervalMs,
    onState: fleetMetricsEvery(10_000),
    runForMs: getNumberFromEnv('HEARTBEAT_RUN_SECONDS', DEFAULT_RUN_SECONDS) * 1000,
  };
}

/** Fleet load and mode as metrics: at every mode change, else every `periodMs` (a minute holds several points). */
function fleetMetricsEvery(periodMs: number): (state: FleetState) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastMode: FleetMode | undefined;
  return (state) => {
    if (state.mode === lastMode && state.updatedAt - lastAt < periodMs) return;
    lastAt = state.updatedAt;
    lastMode = state.mode;
    recordFleet(state.mode, state.load);
  };
}

const deps = heartbeatDepsFromEnv();

/** One scheduled invocation: about a minute (plus overlap) of ticks. */
export async function heartbeat(
  _event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<HeartbeatRunResult> {
  const startedAt = deps.clock.now();
  const result = await runHeartbeat(deps, (nextTickAt) => {
    const remainingAtNextTick = context.getRemainingTimeInMillis() - (nextTickAt - deps.clock.now());
    return (
      nextTickAt - startedAt >= deps.runForMs || remainingAtNextTick < deps.intervalMs + TIMEOUT_MARGIN_MS
    );
  });
  logger.info('heartbeat run ended', { ...result, servers: deps.servers.length });
  return result;
}

export const handler = middy<unknown, HeartbeatRunResult, Error, Context>()
  .use(withLogging())
  .handler(heartbeat);
