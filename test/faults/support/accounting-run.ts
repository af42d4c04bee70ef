/**
 * The accounting fault run's parts apart from the run itself (accounting.test.ts): its plan of requests,
 * the reconciliation of what each client was told against what the table holds, and its printed report.
 */
import { seededRandom } from '../../support/fault-proxy';
import type { Attempt } from './client';
import type { StoredTurn, UserName } from './environment';

/** Tokens of every full answer of the run's fleet. */
export const ANSWER_TOKENS = 50;

export type Kind = 'stream' | 'json' | 'disconnect' | 'stop' | 'duplicate' | 'retry';

/** Share of each kind of request (the rest of the traffic is plain streams). */
export const MIX: readonly [Kind, number][] = [
  ['json', 0.08],
  ['disconnect', 0.12],
  ['stop', 0.12],
  ['duplicate', 0.1],
  ['retry', 0.12],
];

export interface Plan {
  readonly index: number;
  readonly kind: Kind;
  readonly user: UserName;
  readonly prompt: string;
  readonly key?: string;
  /** For 'disconnect': content events before hanging up. */
  readonly cutAfter: number;
}

export interface RequestRecord {
  readonly plan: Plan;
  readonly attempts: Attempt[];
}

export function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

export interface FaultEvent {
  readonly atRequest: number;
  readonly atMs: number;
  readonly action: string;
  readonly detail?: string;
}

const TOPICS = [
  'caching',
  'replication',
  'backpressure',
  'consensus',
  'sharding',
  'idempotency',
  'retries',
  'observability',
  'throttling',
  'streaming',
  'compaction',
  'failover',
];

/** The run's requests, drawn from `seed`: kinds by MIX, users, unique prompts, keys, hang-up points. */
export function makePlans(turns: number, seed: number): Plan[] {
  const random = seededRandom(seed);
  const runId = Date.now().toString(36);
  return Array.from({ length: turns }, (_, index) => {
    let draw = random();
    let kind: Kind = 'stream';
    for (const [candidate, share] of MIX) {
      if (draw < share) {
        kind = candidate;
        break;
      }
      draw -= share;
    }
    const a = TOPICS[Math.floor(random() * TOPICS.length)] ?? 'caching';
    const b = TOPICS[Math.floor(random() * TOPICS.length)] ?? 'failover';
    const keyed = kind === 'duplicate' || kind === 'retry' || random() < 0.5;
    return {
      index,
      kind,
      user: random() < 0.75 ? 'bob' : 'alice',
      // Unique per request: the table's turns are matched to requests by their prompt.
      prompt: `Request ${index} of run ${runId}: how does ${a} interact with ${b}?`,
      ...(keyed ? { key: `faults-${runId}-${index}` } : {}),
      cutAfter: 1 + Math.floor(random() * (ANSWER_TOKENS / 2)),
    };
  });
}

export const round = (value: number) => Math.round(value * 10_000) / 10_000;

/** Reconciles what each client was told with what the table holds (`expectedAnswer`: the fleet's full answer). */
export function reconcile(
  records: readonly RequestRecord[],
  turns: readonly StoredTurn[],
  inProgressAfterDrain: number,
  expectedAnswer: (prompt: string) => string,
) {
  const table = {
    requested: records.length,
    completed: 0,
    failed: 0,
    stopped: 0,
    interrupted: 0,
    /** No turn at all: refused before one began (503, or a 500 when the key's claim could not be written). */
    notStarted: 0,
    lost: 0,
    duplicated: 0,
    cutOffMarkedCompleted: 0,
  };
  const checks = { contradicted: 0, stoppedNotPrefix: 0, failedNotPrefix: 0, inProgressAfterDrain };
  const stops = {
    requested: 0,
    accepted: 0,
    stoppedTurns: 0,
    /** Stopped turns whose stored text is shorter than the full answer. */
    stoppedBeforeServerFinished: 0,
    /** Content events the client received after its stop was acknowledged (max, mean). */
    eventsAfterStopMax: 0,
    eventsAfterStopMean: 0,
  };
  const problems: string[] = [];
  const byPrompt = new Map<string, StoredTurn[]>();
  const idCounts = new Map<string, number>();
  for (const turn of turns) {
    byPrompt.set(turn.userMessage, [...(byPrompt.get(turn.userMessage) ?? []), turn]);
    idCounts.set(`${turn.userId}/${turn.id}`, (idCounts.get(`${turn.userId}/${turn.id}`) ?? 0) + 1);
  }
  for (const count of idCounts.values()) if (count > 1) table.duplicated += count - 1;
  let eventsAfterStopTotal = 0;
  let stopsMeasured = 0;

  for (const { plan, attempts } of records) {
    const stored = byPrompt.get(plan.prompt) ?? [];
    const expected = expectedAnswer(plan.prompt);
    const where = `request ${plan.index} (${plan.kind})`;
    if (stored.length > 1) {
      table.duplicated += stored.length - 1;
      problems.push(`duplicated: ${where} has ${stored.length} turns`);
    }
    const turn = stored[0];
    // Lost: the client was told of a turn (an id, or a 200 that started) that is not a final turn.
    const told = new Set(attempts.flatMap((a) => (a.messageId === undefined ? [] : [a.messageId])));
    const started = attempts.some((a) => a.status === 200);
    const missing = [...told].filter((id) => !stored.some((candidate) => candidate.id === id));
    if (missing.length > 0 || (started && !turn) || turn?.status === 'in_progress') {
      table.lost++;
      problems.push(
        `lost: ${where} told ${[...told].join(',') || '(no id)'} ` +
          `[${attempts.map((a) => `${a.label}:${a.status}${a.errorCode ? `/${a.errorCode}` : ''}`).join(' ')}] ` +
          `table: ${stored.map((candidate) => `${candidate.id}=${candidate.status}`).join(',') || 'none'}`,
      );
    }
    if (!turn) {
      table.notStarted++;
      continue;
    }
    switch (turn.status) {
      case 'completed':
        table.completed++;
        if (
          turn.assistantResponse !== expected ||
          turn.finishReason !== 'stop' ||
          turn.completionTokens !== ANSWER_TOKENS
        ) {
          table.cutOffMarkedCompleted++;
          problems.push(
            `cut off: ${where} ${turn.id} completed with ${turn.assistantResponse.length}/${expected.length} chars`,
          );
        }
        break;
      case 'failed':
        table.failed++;
        if (!expected.startsWith(turn.assistantResponse)) {
          checks.failedNotPrefix++;
          problems.push(`failed not prefix: ${where} ${turn.id}`);
        }
        break;
      case 'stopped':
        table.stopped++;
        stops.stoppedTurns++;
        if (!expected.startsWith(turn.assistantResponse)) {
          checks.stoppedNotPrefix++;
          problems.push(`stopped not prefix: ${where} ${turn.id}`);
        }
        if (turn.assistantResponse.length < expected.length) stops.stoppedBeforeServerFinished++;
        break;
      case 'interrupted':
        table.interrupted++;
        break;
    }
    // Contradicted: the table disagrees with what the client was told about this turn.
    for (const a of attempts) {
      if (a.messageId !== undefined && a.messageId !== turn.id) continue;
      const contradiction = contradictionOf(a, turn);
      if (contradiction) {
        checks.contradicted++;
        problems.push(`contradicted: ${where} ${a.label}: ${contradiction}`);
      }
    }
    for (const a of attempts) {
      if (!a.stop) continue;
      stops.requested++;
      if (a.stop.status === 200) stops.accepted++;
      if (a.end?.status === 'stopped' && a.stop.contentEventsAtAnswer !== undefined) {
        const after = a.contentEvents - a.stop.contentEventsAtAnswer;
        stops.eventsAfterStopMax = Math.max(stops.eventsAfterStopMax, after);
        eventsAfterStopTotal += after;
        stopsMeasured++;
      }
    }
  }
  stops.eventsAfterStopMean = stopsMeasured === 0 ? 0 : round(eventsAfterStopTotal / stopsMeasured);
  return { table, checks, stops, problems };
}

function contradictionOf(a: Attempt, turn: StoredTurn): string | undefined {
  if (a.end && !a.stream) {
    // A JSON answer (first attempt or replay) is given only for a turn stored with its whole text.
    if (!['completed', 'stopped'].includes(turn.status)) return `JSON answer, table says ${turn.status}`;
    if (a.content !== turn.assistantResponse) {
      return `JSON answer of ${a.content.length} chars, table holds ${turn.assistantResponse.length}`;
    }
    return undefined;
  }
  if (a.end) {
    if (a.end.status !== turn.status) return `end said ${a.end.status}, table says ${turn.status}`;
    // Streams read to their end (and JSON answers) carry the whole stored text.
    if (!a.disconnected && !a.broken && a.content !== turn.assistantResponse) {
      return `received ${a.content.length} chars, table holds ${turn.assistantResponse.length}`;
    }
    return undefined;
  }
  if (a.status === 200 && a.errorCode !== undefined) {
    if (turn.status !== 'failed') return `stream error ${a.errorCode}, table says ${turn.status}`;
    if (a.content !== turn.assistantResponse) {
      return `error after ${a.content.length} chars, table holds ${turn.assistantResponse.length}`;
    }
  }
  if (a.status === 502 && a.messageId !== undefined && !['failed', 'interrupted'].includes(turn.status)) {
    return `replay said failed, table says ${turn.status}`;
  }
  return undefined;
}

export function printReport(report: {
  turns: number;
  runMs: number;
  trafficMs: number;
  drainMs: number;
  finalSweepMarked: number;
  parkedWrites: number;
  parkedWritesApplied: number;
  parkedWritesAppliedAfterRedelivery: number;
  accounting: Record<string, number>;
  checks: Record<string, number>;
  stops: Record<string, number>;
  faultRates: unknown;
  injected: {
    dynamoWrites: number;
    throttled: number;
    serverErrors: number;
    refusedShare: number;
    events: readonly FaultEvent[];
  };
  fleet: Record<string, number>;
  problems: readonly string[];
}): void {
  const rows = Object.entries(report.accounting)
    .map(([name, value]) => `  ${name.padEnd(24)} ${String(value).padStart(6)}`)
    .join('\n');
  const events = report.injected.events
    .map(
      (event) =>
        `  #${String(event.atRequest).padStart(5)} +${event.atMs} ms  ${event.action}${event.detail ? ` — ${event.detail}` : ''}`,
    )
    .join('\n');
  process.stdout.write(
    [
      '',
      `Fault run: ${report.turns} turns in ${(report.runMs / 1000).toFixed(1)} s ` +
        `(traffic ${(report.trafficMs / 1000).toFixed(1)} s, drain ${(report.drainMs / 1000).toFixed(1)} s)`,
      'Accounting (from the chat table):',
      rows,
      `Checks: ${JSON.stringify(report.checks)}`,
      `Stops: ${JSON.stringify(report.stops)}`,
      `Fault rates: ${JSON.stringify(report.faultRates)}`,
      `Injected: ${report.injected.dynamoWrites} DynamoDB writes, ${report.injected.throttled} throttled, ` +
        `${report.injected.serverErrors} answered 500 (${(report.injected.refusedShare * 100).toFixed(2)} % refused); ` +
        `parked on SQS ${report.parkedWrites}, applied by the persister ${report.parkedWritesApplied} ` +
        `(${report.parkedWritesAppliedAfterRedelivery} after a redelivery); ` +
        `final sweep marked ${report.finalSweepMarked}`,
      `Fleet: ${JSON.stringify(report.fleet)}`,
      'Fault events:',
      events,
      ...(report.problems.length > 0
        ? ['Problems:', ...report.problems.map((problem) => `  ${problem}`)]
        : []),
      '',
    ].join('\n'),
  );
}
