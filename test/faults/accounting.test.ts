/**
 * The accounting run: FAULT_TURNS (default 1000) requested turns, FAULT_CONCURRENCY (default 16) at a
 * time, against a local stack while faults are injected from outside it on a fixed schedule (by
 * progress, so the schedule scales with FAULT_TURNS):
 * - DynamoDB writes refused through the proxy (a baseline share, plus outages of the chat table),
 * - inference servers killed mid-stream and restarted, or stalled (shorter and longer than the idle time-out),
 * - the stack SIGKILLed mid-stream and started again on the same data,
 * - clients that hang up, press stop, or send the same Idempotency-Key twice (concurrently or after).
 * Every request records what its client was told; then the persister drains, a final start-up sweep
 * runs, and the chat table itself is reconciled against those records. Lost, duplicated and
 * cut-off-marked-completed turns must be zero. The accounting is saved to test-results/faults.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../local/repo-root';
import { type FaultRates, NO_FAULTS } from '../support/fault-proxy';
import {
  ANSWER_TOKENS,
  type FaultEvent,
  makePlans,
  type Plan,
  positiveInteger,
  printReport,
  type RequestRecord,
  reconcile,
  round,
} from './support/accounting-run';
import { type Attempt, attemptSummary, chatAttempt } from './support/client';
import { type FaultEnvironment, parkedWrites, startFaultEnvironment } from './support/environment';

const TURNS = positiveInteger('FAULT_TURNS', 1000);
const CONCURRENCY = positiveInteger('FAULT_CONCURRENCY', 16);
const SEED = positiveInteger('FAULT_SEED', 7);
const TOKENS_PER_SECOND = 250;
const IDLE_TIMEOUT_MS = 1_500;
/** How long the persister may take to apply what was parked (a refused attempt returns after 60 s). */
const DRAIN_TIMEOUT_MS = 150_000;

const BASELINE: FaultRates = { throttle: 0.08, serverError: 0.04 };
const OUTAGE: FaultRates = { throttle: 0.6, serverError: 0.4, tables: ['ChatTable'] };
const OUTAGE_MS = 2_000;

let env: FaultEnvironment;

beforeAll(async () => {
  env = await startFaultEnvironment({
    fleet: {
      count: 3,
      slots: 16,
      capacity: 24,
      tokensPerSecond: TOKENS_PER_SECOND,
      answerTokens: ANSWER_TOKENS,
      timeToFirstTokenMs: 20,
    },
    stackEnv: {
      STOP_POLL_MS: '100',
      INFERENCE_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      INFERENCE_CONNECT_TIMEOUT_MS: '1000',
      FIRST_TOKEN_TIMEOUT_MS: '3000',
    },
    proxySeed: SEED,
  });
});

afterAll(async () => {
  await env?.close();
});

describe(`${TURNS} turns under injected faults`, () => {
  it('loses, duplicates and cuts off nothing', async () => {
    const startedAt = Date.now();
    const plans = makePlans(TURNS, SEED);
    const records: RequestRecord[] = [];
    const faultLog: FaultEvent[] = [];
    let requestsStarted = 0;
    const log = (action: string, detail?: string) =>
      faultLog.push({
        atRequest: requestsStarted,
        atMs: Date.now() - startedAt,
        action,
        ...(detail ? { detail } : {}),
      });

    // Attempts wait here while the stack is down, as a client would wait for the service to return.
    let stackUp: Promise<void> = Promise.resolve();
    const live = new Set<Attempt>();
    const abortedBefore = fleetTotals().aborted;

    const attempt = async (plan: Plan, label: string, extra: Partial<Parameters<typeof chatAttempt>[0]>) => {
      await stackUp;
      const record = await chatAttempt({
        baseUrl: env.url(),
        token: env.token(plan.user),
        prompt: plan.prompt,
        label,
        ...(plan.key === undefined ? {} : { key: plan.key }),
        onEvent: (_event, current) => {
          if (current.contentEvents > 0 && !current.end && !current.errorCode) live.add(current);
          else live.delete(current);
        },
        ...extra,
      });
      live.delete(record);
      return record;
    };

    const runRequest = async (plan: Plan): Promise<RequestRecord> => {
      const attempts: Attempt[] = [];
      const go = async (label: string, extra: Partial<Parameters<typeof chatAttempt>[0]> = {}) => {
        attempts.push(await attempt(plan, label, extra));
      };
      switch (plan.kind) {
        case 'duplicate':
          await Promise.all([go('duplicate-a'), go('duplicate-b')]);
          break;
        case 'json':
          await go('first', { stream: false });
          break;
        case 'disconnect':
          await go('first', { disconnectAfter: plan.cutAfter });
          break;
        case 'stop':
          await go('first', { stopAfter: 1 });
          break;
        default:
          await go('first');
      }
      if (plan.key !== undefined) {
        const unsettled = attempts.some(
          (a) => a.broken || a.status === 'network' || a.status === 409 || a.status >= 500,
        );
        // A client with a key retries what it does not know the end of, and 'retry' requests always do.
        if (plan.kind === 'retry' || unsettled) {
          if (plan.kind !== 'retry') await sleep(300);
          await go('retry');
        }
      }
      return { plan, attempts };
    };

    // The fault schedule, by progress through the requests.
    const schedule: [number, () => Promise<void>][] = [
      [0.05, () => killServerMidStream(0, 1_000)],
      [0.1, () => stallServer(1, 800)],
      [0.15, () => killStackMidStream()],
      [
        0.25,
        async () => {
          env.proxy.setRates(BASELINE);
          log('dynamodb write faults', JSON.stringify(BASELINE));
        },
      ],
      [0.3, () => outage()],
      [0.45, () => stallServer(2, IDLE_TIMEOUT_MS + 1_000)],
      [0.55, () => killServerMidStream(1, 1_500)],
      [0.65, () => outage()],
      [0.8, () => killServerMidStream(2, 1_000)],
      [
        0.92,
        async () => {
          env.proxy.setRates(NO_FAULTS);
          log('dynamodb write faults off');
        },
      ],
    ];

    async function waitForLiveStreams(count: number, where: () => boolean = () => true): Promise<void> {
      for (let i = 0; i < 200 && !(live.size >= count && where()); i++) await sleep(10);
    }

    async function killServerMidStream(index: number, downMs: number): Promise<void> {
      const server = env.fleet.servers[index];
      if (!server) return;
      await waitForLiveStreams(1, () => server.handle.stats().running > 0);
      const running = server.handle.stats().running;
      await server.handle.kill();
      log(`kill ${server.id}`, `${running} sequences running, down for ${downMs} ms`);
      await sleep(downMs);
      await server.handle.restart();
      log(`restart ${server.id}`);
    }

    async function stallServer(index: number, ms: number): Promise<void> {
      const server = env.fleet.servers[index];
      if (!server) return;
      await waitForLiveStreams(1, () => server.handle.stats().running > 0);
      server.handle.stall(ms);
      log(`stall ${server.id}`, `${ms} ms (idle time-out ${IDLE_TIMEOUT_MS} ms)`);
      await sleep(ms);
    }

    async function killStackMidStream(): Promise<void> {
      await waitForLiveStreams(Math.min(6, CONCURRENCY));
      const streaming = live.size;
      let restarted: () => void = () => undefined;
      stackUp = new Promise((resolve) => {
        restarted = resolve;
      });
      const restart = env.restartStack('SIGKILL');
      log('SIGKILL stack', `${streaming} streams mid-flight`);
      await restart;
      restarted();
      log('stack restarted on the same data');
    }

    async function outage(): Promise<void> {
      const previous = env.proxy.rates();
      env.proxy.setRates(OUTAGE);
      log('chat table outage', `${JSON.stringify(OUTAGE)} for ${OUTAGE_MS} ms`);
      await sleep(OUTAGE_MS);
      env.proxy.setRates(previous);
      log('chat table outage over', JSON.stringify(previous));
    }

    let stopChaos = false;
    const chaos = (async () => {
      for (const [fraction, action] of schedule) {
        while (!stopChaos && requestsStarted < fraction * TURNS) await sleep(20);
        if (stopChaos) return;
        await action();
      }
    })();

    let next = 0;
    const worker = async () => {
      for (;;) {
        const plan = plans[next++];
        if (!plan) return;
        requestsStarted++;
        records[plan.index] = await runRequest(plan);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    stopChaos = true;
    await chaos;
    const trafficMs = Date.now() - startedAt;

    // Heal everything, let the persister apply what was parked, then one more start-up sweep.
    env.proxy.setRates(NO_FAULTS);
    for (const server of env.fleet.servers) {
      server.handle.stall(false);
      await server.handle.restart();
    }
    const prompts = new Set(plans.map((plan) => plan.prompt));
    const drainStartedAt = Date.now();
    let drained = false;
    while (!drained && Date.now() - drainStartedAt < DRAIN_TIMEOUT_MS) {
      const turns = (await env.scanTurns()).filter((turn) => prompts.has(turn.userMessage));
      const final = new Set(turns.filter((turn) => turn.status !== 'in_progress').map((turn) => turn.id));
      const { parked, applied } = parkedWrites(env.output());
      const waiting = [...parked].filter((id) => !applied.has(id) && !final.has(id));
      drained = waiting.length === 0 && turns.every((turn) => turn.status !== 'in_progress');
      if (!drained) await sleep(500);
    }
    const drainMs = Date.now() - drainStartedAt;
    const beforeSweep = (await env.scanTurns()).filter((turn) => prompts.has(turn.userMessage));
    const inProgressAfterDrain = beforeSweep.filter((turn) => turn.status === 'in_progress').length;
    await env.restartStack('SIGTERM');
    const sweepMarked = Number(/"msg":"startup_sweep","marked":(\d+)/.exec(env.stack().output())?.[1] ?? -1);
    const turns = (await env.scanTurns()).filter((turn) => prompts.has(turn.userMessage));
    const { parked, applied, redelivered } = parkedWrites(env.output());

    const accounting = reconcile(records, turns, inProgressAfterDrain, (prompt) =>
      env.expectedAnswer(prompt),
    );
    const fleet = fleetTotals();
    const abortedDelta = fleet.aborted - abortedBefore;
    const proxyStats = env.proxy.stats();
    const report = {
      turns: TURNS,
      concurrency: CONCURRENCY,
      seed: SEED,
      fleet: {
        servers: env.fleet.servers.length,
        tokensPerSecond: TOKENS_PER_SECOND,
        answerTokens: ANSWER_TOKENS,
        ...fleet,
        abortedDuringRun: abortedDelta,
      },
      runMs: Date.now() - startedAt,
      trafficMs,
      drainMs,
      drained,
      finalSweepMarked: sweepMarked,
      parkedWrites: parked.size,
      parkedWritesApplied: [...parked].filter((id) => applied.has(id)).length,
      parkedWritesAppliedAfterRedelivery: redelivered.size,
      faultRates: { baseline: BASELINE, outage: { ...OUTAGE, durationMs: OUTAGE_MS } },
      injected: {
        dynamoWrites: proxyStats.writes,
        throttled: proxyStats.throttled,
        serverErrors: proxyStats.serverErrors,
        refusedShare: round(
          (proxyStats.throttled + proxyStats.serverErrors) / Math.max(1, proxyStats.writes),
        ),
        refusedByOperation: proxyStats.refusedByOperation,
        events: faultLog,
      },
      accounting: accounting.table,
      checks: accounting.checks,
      stops: accounting.stops,
      problems: accounting.problems.slice(0, 50),
      requests: records.map((record) => ({
        index: record.plan.index,
        kind: record.plan.kind,
        user: record.plan.user,
        key: record.plan.key,
        attempts: record.attempts.map((a) => {
          const { content, ...rest } = attemptSummary(a);
          return { ...rest, contentChars: content.length };
        }),
        stored: turns
          .filter((turn) => turn.userMessage === record.plan.prompt)
          .map((turn) => ({ id: turn.id, status: turn.status, chars: turn.assistantResponse.length })),
      })),
    };
    await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
    await writeFile(join(REPO_ROOT, 'test-results', 'faults.json'), `${JSON.stringify(report, null, 2)}\n`);
    printReport(report);

    const table = accounting.table;
    expect(table.requested).toBe(TURNS);
    expect(table.completed + table.failed + table.stopped + table.interrupted + table.notStarted).toBe(TURNS);
    expect(accounting.problems.filter((problem) => problem.startsWith('lost'))).toEqual([]);
    expect(table.lost).toBe(0);
    expect(table.duplicated).toBe(0);
    expect(table.cutOffMarkedCompleted).toBe(0);
    expect(accounting.checks).toEqual({
      contradicted: 0,
      stoppedNotPrefix: 0,
      failedNotPrefix: 0,
      inProgressAfterDrain: 0,
    });
    expect(drained).toBe(true);
    // Every fault of the schedule happened, and each kind of outcome occurred.
    expect(faultLog.map((event) => event.action)).toEqual(
      expect.arrayContaining(['SIGKILL stack', 'chat table outage', 'kill gpu-1', 'stall gpu-3']),
    );
    expect(table.completed).toBeGreaterThan(TURNS / 2);
    expect(table.stopped).toBeGreaterThan(0);
    expect(table.interrupted).toBeGreaterThan(0);
    expect(table.failed).toBeGreaterThan(0);
    expect(parked.size).toBeGreaterThan(0);
    // The servers saw the stops: stopped turns cancelled their upstream requests.
    expect(abortedDelta).toBeGreaterThanOrEqual(accounting.stops.stoppedBeforeServerFinished);
  });
});

function fleetTotals() {
  const totals = { completed: 0, aborted: 0, killed: 0, rejected: 0, requests: 0 };
  for (const server of env.fleet.servers) {
    const stats = server.handle.stats();
    totals.completed += stats.completed;
    totals.aborted += stats.aborted;
    totals.killed += stats.killed;
    totals.rejected += stats.rejected;
    totals.requests += stats.requestsTotal;
  }
  return totals;
}
