/**
 * Must show 4: the cost model's DynamoDB count (an SDK middleware inside the process) agrees with a
 * black-box count (a proxy in front of dynalite, by x-amz-target) for one streamed turn through the real
 * handlers and wiring. Both are measurements; neither is derived from the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamodbTotals } from '../../../bench/cost/dynamodb-totals';
import {
  measureTurn,
  SEED_TOKENS_PER_SECOND,
  seedConversation,
  setSpeed,
  USER,
} from '../../../bench/cost/measure';
import { MeteredStack } from '../../../bench/cost/metered-stack';
import type { Scenario } from '../../../bench/cost/scenario';
import { type LocalDynamoDb, startDynamoDb } from '../../../local/emulators/dynamodb';
import { type CountingProxy, startCountingProxy } from '../../support/counting-proxy';

const scenario: Scenario = {
  promptChars: 600,
  answerTokens: 60,
  tokensPerSecond: 50,
  timeToFirstTokenMs: 50,
  earlierTurns: 2,
  turns: 1,
  fleetShards: 2,
  serversPerShard: 3,
  heartbeatSeconds: 1,
  turnsPerWindow: 5,
};

let dynalite: LocalDynamoDb;
let proxy: CountingProxy;
let stack: MeteredStack;

beforeAll(async () => {
  dynalite = await startDynamoDb();
  proxy = await startCountingProxy(dynalite.endpoint);
  stack = await MeteredStack.start({
    scenario,
    dynamoEndpoint: proxy.endpoint,
    inspectEndpoint: dynalite.endpoint,
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await dynalite?.close();
});

const tally = (operations: readonly string[]) => {
  const counts: Record<string, number> = {};
  for (const operation of operations) counts[operation] = (counts[operation] ?? 0) + 1;
  return counts;
};

describe('the cost model counts DynamoDB requests', () => {
  it('as a proxy in front of DynamoDB sees them, for one streamed turn', async () => {
    // Prepare: a conversation with earlier turns and fresh fleet views, outside the measured window.
    const token = await stack.login(USER);
    await stack.phase('setup', () => stack.refreshViews());
    setSpeed(stack, SEED_TOKENS_PER_SECOND, 0);
    const conversationId = await stack.phase('seed', () => seedConversation(stack, token, scenario, 0));
    setSpeed(stack, scenario.tokensPerSecond, scenario.timeToFirstTokenMs);

    // Act
    const from = performance.now();
    const turn = await measureTurn(stack, token, scenario, conversationId, 0);
    const to = performance.now();

    // Assess: the same requests, operation by operation, and the model's figure is that count.
    const seen = proxy.between(from, to);
    const counted = turn.calls.filter((call) => call.service === 'dynamodb');
    const modelled = dynamodbTotals(
      turn.calls,
      { tables: stack.stateful.tables, stopReads: 'measured', text: 'measured' },
      turn.startedAtEpochMs,
    );
    expect(tally(counted.map((call) => call.operation))).toEqual(
      tally(seen.map((request) => request.operation)),
    );
    expect(modelled.requests).toBe(seen.length);
    // A real turn: the key claim, the context batch, the start and final writes (and the admission view,
    // unless this container's cached one is still fresh).
    expect(Object.keys(tally(seen.map((request) => request.operation))).sort()).toEqual(
      expect.arrayContaining(['BatchGetItem', 'PutItem', 'UpdateItem']),
    );
    // The quota's grant and its stream slot's release are counted too, beside the turn's final write, and
    // the turn's record on its conversation item (which says the conversation exists, so context is read).
    const operations = tally(seen.map((request) => request.operation));
    expect(operations.UpdateItem).toBe(4);
    // The context: the turn ids its conversation item returned, read in one batch (no index Query).
    expect(operations.Query).toBeUndefined();
    expect(operations.BatchGetItem).toBe(1);
    expect(turn.response.endStatus).toBe('completed');
  }, 60_000);
});
