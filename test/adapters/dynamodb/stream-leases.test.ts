/** The sweeper's crash evidence on dynalite: quota windows found by byLeases, their unreleased slots' turns. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbQuotaCounter } from '../../../adapters/dynamodb/quota-counter';
import { SWEEP_SPREAD_MS, sweepAt } from '../../../adapters/dynamodb/quota-items';
import { DynamoDbStreamLeases } from '../../../adapters/dynamodb/stream-leases';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { ulid } from '../../../domain/ids';
import type { NewTurn, StreamSlot } from '../../../domain/ports';
import type { PromptLimits } from '../../../domain/quota';
import { sweepInterruptedTurns, sweepTurnsOfDeadProcess } from '../../../use-cases/sweep-turns';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
let counter: DynamoDbQuotaCounter;
let leases: DynamoDbStreamLeases;
let repository: DynamoDbTurnRepository;
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

const HOUR = 3_600_000;
const LIMITS: PromptLimits = {
  promptsPerWindow: 50,
  concurrentStreams: 10,
  promptsPerMinute: 50,
  windowMs: 3 * HOUR,
  streamLeaseMs: 300_000,
};

beforeAll(async () => {
  db = await startTestDynamoDb();
  counter = new DynamoDbQuotaCounter(db.doc, db.tableNames.ChatTable);
  leases = new DynamoDbStreamLeases(db.doc, db.tableNames.ChatTable);
  repository = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
});
afterAll(() => db?.close());

/** A turn as POST /chat starts it: its slot first (named by the turn's id), then its in_progress item. */
async function startTurn(userId: string, at: number): Promise<{ turn: NewTurn; slot: StreamSlot }> {
  const id = ulid(at);
  const decision = await counter.acquire(userId, id, LIMITS, at);
  if (!decision.granted) throw new Error(`refused: ${decision.reason}`);
  const turn = { userId, id, conversationId: 'c', userMessage: 'q', createdAt: new Date(at).toISOString() };
  await repository.startTurn(turn);
  return { turn, slot: decision.slot };
}

const statusOf = async (turn: NewTurn) => (await repository.getTurn(turn.userId, turn.id))?.status;

describe('the scheduled sweep', () => {
  it('interrupts the turns of slots left on a window once its leases are over, and nothing else', async () => {
    // Prepare: one user's window of 09:00–12:00 on a day: a dead turn (slot never released), a turn that
    // ended and released, and one that ended but whose release failed.
    const user = randomUUID();
    const windowStart = Date.UTC(2026, 5, 1, 9);
    const dead = await startTurn(user, windowStart + 60_000);
    const released = await startTurn(user, windowStart + 120_000);
    const unreleased = await startTurn(user, windowStart + 180_000);
    const done = { status: 'completed' as const, assistantResponse: 'a', updatedAt: released.turn.createdAt };
    await repository.finishTurn(released.turn, done);
    await counter.release(user, released.slot);
    await repository.finishTurn(unreleased.turn, done);
    const over = sweepAt(user, windowStart, LIMITS.windowMs, LIMITS.streamLeaseMs);
    const at = (now: number) => ({ leases, repository, log, clock: { now: () => now } });

    // Act: a sweep before the window's leases are over, then one just after.
    const early = await sweepInterruptedTurns(at(over - 1), 600_000);
    const afterEnd = await sweepInterruptedTurns(at(over + 60_000), 600_000);
    const again = await sweepInterruptedTurns(at(over + 120_000), 600_000);

    // Assess
    expect(early).toBe(0);
    expect(afterEnd).toBe(1);
    expect(again).toBe(0);
    expect(await statusOf(dead.turn)).toBe('interrupted');
    expect(await statusOf(released.turn)).toBe('completed');
    expect(await statusOf(unreleased.turn)).toBe('completed');
  });

  it('looks back only as far as it is told', async () => {
    const user = randomUUID();
    const windowStart = Date.UTC(2026, 5, 2, 9);
    const dead = await startTurn(user, windowStart + 1_000);
    const over = sweepAt(user, windowStart, LIMITS.windowMs, LIMITS.streamLeaseMs);
    const clock = { now: () => over + 700_000 };

    expect(await sweepInterruptedTurns({ leases, repository, log, clock }, 600_000)).toBe(0);
    expect(await statusOf(dead.turn)).toBe('in_progress');
  });
});

describe('windows that end together', () => {
  it('are swept over SWEEP_SPREAD_MS, each once, not all by one run', async () => {
    // Prepare: 20 users' dead turns in the same window (fixed windows all end at once).
    const windowStart = Date.UTC(2026, 5, 3, 9);
    const dead = await Promise.all(
      Array.from({ length: 20 }, (_, i) => startTurn(`spread-user-${i}`, windowStart + 1_000 + i)),
    );
    const leasesOver = windowStart + LIMITS.windowMs + LIMITS.streamLeaseMs;
    const step = SWEEP_SPREAD_MS / 6;

    // Act: six runs, each looking back over its own sixth of the spread.
    const marked: number[] = [];
    for (let run = 1; run <= 6; run++) {
      const clock = { now: () => leasesOver + run * step };
      marked.push(await sweepInterruptedTurns({ leases, repository, log, clock }, step));
    }

    // Assess: every dead turn marked exactly once, and spread over several runs.
    expect(marked.reduce((sum, count) => sum + count, 0)).toBe(20);
    expect(Math.max(...marked)).toBeLessThan(20);
    for (const { turn } of dead) expect(await statusOf(turn)).toBe('interrupted');
  });
});

describe('the local start-up sweep', () => {
  it('interrupts the turns a killed process left, whatever their window, and spares turns begun since', async () => {
    const user = randomUUID();
    const startedAt = Date.now();
    const killed = await startTurn(user, startedAt - 5_000);
    const live = await startTurn(user, startedAt + 1);
    const clock = { now: () => startedAt + 2 };

    const marked = await sweepTurnsOfDeadProcess({ leases, repository, log, clock }, startedAt);

    expect(marked).toBeGreaterThanOrEqual(1);
    expect(await statusOf(killed.turn)).toBe('interrupted');
    expect(await statusOf(live.turn)).toBe('in_progress');
  });
});
