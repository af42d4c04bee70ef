/**
 * A conversation through ChatService on dynalite and a simulated OpenAI-compatible server: what each
 * completed turn keeps of the server's counts, which the turns after it count their context with
 * (domain/context.ts).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { contextCost } from '../../domain/context';
import type { Turn } from '../../domain/turn';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';
import { oneServerChat } from './support/one-server-chat';

let db: TestDynamoDb;
let gpu: SimulatedServerHandle;
let repository: DynamoDbTurnRepository;

beforeAll(async () => {
  db = await startTestDynamoDb();
  repository = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
  gpu = await startSimulatedServer({
    id: 'gpu-a',
    tokensPerSecond: 1000,
    answerTokens: 30,
    timeToFirstTokenMs: 5,
  });
});

afterAll(async () => {
  await gpu?.close();
  await db?.close();
});

const service = (contextTokenBudget: number) => oneServerChat(db, gpu, { contextTokenBudget });

/** One completed turn of the conversation (a new one without `conversationId`), as stored. */
async function say(userId: string, prompt: string, budget: number, conversationId?: string): Promise<Turn> {
  const turn = await service(budget).begin(
    { userId, tier: 'free' },
    { prompt, stream: true, ...(conversationId ? { conversationId } : {}) },
  );
  for await (const event of turn.events()) expect(event.type).not.toBe('error');
  const stored = await repository.getTurn(userId, turn.messageId);
  expect(stored?.status).toBe('completed');
  if (!stored) throw new Error('turn not stored');
  return stored;
}

/** What the server counted for a turn's prompt and answer. */
const served = (turn: Turn) => (turn.usage?.promptTokens ?? Number.NaN) + (turn.usage?.completionTokens ?? 0);

describe("a conversation's counts", () => {
  it('keeps the prompt count of each message: the whole prompt first, then what the previous turn did not count', async () => {
    const userId = randomUUID();
    const first = await say(userId, 'How do streams work?', 10_000);
    expect(first.contextFrom).toBe(first.id);
    expect(first.messageTokens).toBeGreaterThan(0);
    expect(first.messageTokens).toBe(first.usage?.promptTokens);

    const second = await say(
      userId,
      'How do streams handle backpressure in Node?',
      10_000,
      first.conversationId,
    );
    expect(second.contextFrom).toBe(first.id);
    expect(second.messageTokens).toBe((second.usage?.promptTokens ?? 0) - served(first));
  });

  it('takes back what the budget left out of the prompt, at its count', async () => {
    const userId = randomUUID();
    const first = await say(userId, 'What is a closure?', 10_000);
    const second = await say(
      userId,
      'And how does it capture variables in loops?',
      10_000,
      first.conversationId,
    );
    // Room for the second turn only: the third prompt holds it, not the first.
    const third = await say(
      userId,
      'Show one example with let.',
      contextCost(second).tokens,
      first.conversationId,
    );
    expect(third.contextFrom).toBe(second.id);
    expect(third.messageTokens).toBe(
      (third.usage?.promptTokens ?? 0) - (served(second) - contextCost(first).tokens),
    );
  });
});
