/**
 * The chat use case on its real adapters, for the ChatService tests: dynalite, the SQS emulator, two
 * simulated inference servers over HTTP and the OpenAI-protocol client, started and stopped by the hooks
 * this module registers in the test file that imports it. Only faults are injected, by the tests.
 */
import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { DynamoDbConversationRepository } from '../../../adapters/dynamodb/conversation-repository';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import { DynamoDbIdempotencyClaims } from '../../../adapters/dynamodb/idempotency-claims';
import { DynamoDbStopFlags } from '../../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { OpenAiModelClient } from '../../../adapters/inference/openai-model-client';
import { SqsTurnWriteQueue } from '../../../adapters/sqs/sqs-turn-write-queue';
import { SqsStopInbox } from '../../../adapters/sqs/stop-inbox';
import { defaultBackoffPolicy } from '../../../contract/backoff';
import type { ChatRequest } from '../../../domain/chat-request';
import { defaultFleetPolicy, type FleetState } from '../../../domain/fleet';
import { systemClock } from '../../../domain/ports';
import type { Caller } from '../../../domain/turn';
import { type LocalSqs, startSqs } from '../../../local/emulators/sqs';
import { type SimulatedServerHandle, startSimulatedServer } from '../../../local/fleet/server';
import { FleetGate } from '../../../use-cases/fleet-gate';
import { type ActiveTurn, ChatService, type TurnEvent } from '../../../use-cases/start-turn';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

export const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

export let db: TestDynamoDb;
export let sqs: LocalSqs;
export let sqsClient: SQSClient;
export let repository: DynamoDbTurnRepository;
export let gpuA: SimulatedServerHandle;
export let gpuB: SimulatedServerHandle;
export const fleetOptions = { tokensPerSecond: 80, answerTokens: 40, timeToFirstTokenMs: 10 };

beforeAll(async () => {
  db = await startTestDynamoDb();
  sqs = await startSqs();
  sqsClient = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  repository = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
  gpuA = await startSimulatedServer({ id: 'gpu-a', ...fleetOptions });
  gpuB = await startSimulatedServer({ id: 'gpu-b', ...fleetOptions });
});

afterAll(async () => {
  await gpuA?.close();
  await gpuB?.close();
  sqsClient?.destroy();
  await sqs?.close();
  await db?.close();
});

afterEach(async () => {
  for (const server of [gpuA, gpuB]) {
    if (!server.stats().listening) await server.restart();
    server.stall(false);
    server.setOptions({ ...fleetOptions, slots: 8, maxQueue: null });
  }
});

/** A fleet state as the heartbeat writes it, listing the servers (gpu-a first). */
export async function publishFleet(servers: SimulatedServerHandle[]): Promise<void> {
  const fleet = new DynamoDbFleetRepository(db.doc, db.tableNames.FleetTable);
  const current = await fleet.getView(0, { consistent: true });
  const state: FleetState = {
    shard: 0,
    totals: {
      shard: 0,
      used: 0,
      capacity: 10 * servers.length,
      safeServers: servers.length,
      updatedAt: Date.now(),
    },
    mode: 'normal',
    load: 0,
    smoothedLoad: 0,
    freeAdmitRatio: 1,
    updatedAt: Date.now(),
    version: (current?.version ?? 0) + 1,
    servers: servers.map((server) => ({
      id: server.id,
      baseUrl: server.baseUrl,
      running: 0,
      waiting: 0,
      capacity: 10,
      healthy: true,
      updatedAt: Date.now(),
    })),
  };
  expect(await fleet.saveView(state, current?.version)).toBe(true);
}

export const STOP_PREFIX = 'test-stop-';

export function service(
  options: { repository?: DynamoDbTurnRepository; idleTimeoutMs?: number; stopInboxSqs?: SQSClient } = {},
) {
  return new ChatService({
    repository: options.repository ?? repository,
    conversations: new DynamoDbConversationRepository(db.doc, db.tableNames.ChatTable),
    model: new OpenAiModelClient({ connectTimeoutMs: 1000, idleTimeoutMs: options.idleTimeoutMs ?? 2000 }),
    // Draws at 0 always pick the first listed server first, so tests know which one is tried.
    admission: new FleetGate({
      fleet: new DynamoDbFleetRepository(db.doc, db.tableNames.FleetTable),
      clock: systemClock,
      random: () => 0,
      policy: defaultFleetPolicy,
      backoff: defaultBackoffPolicy,
      cacheMs: 0,
    }),
    writeQueue: new SqsTurnWriteQueue(sqsClient, sqs.queueUrls.TurnWritesQueue ?? ''),
    stopFlags: new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, systemClock),
    stopInbox: new SqsStopInbox(options.stopInboxSqs ?? sqsClient, {
      prefix: STOP_PREFIX,
      clock: systemClock,
      log,
    }),
    idempotency: new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, systemClock),
    clock: systemClock,
    log,
    config: {
      model: 'local-llm',
      contextTokenBudget: 1000,
      contextTurnsToRead: 10,
      maxAnswerTokens: 256,
      maxAnswerBytes: 100_000,
      firstTokenTimeoutMs: 2000,
      maxTurnMs: 20_000,
      stopPollMs: 50,
    },
  });
}

export const caller = (tier: Caller['tier'] = 'free'): Caller => ({ userId: randomUUID(), tier });
export const ask = (prompt = 'How do streams work?', extra: Partial<ChatRequest> = {}): ChatRequest => ({
  prompt,
  stream: true,
  ...extra,
});

export async function drain(turn: ActiveTurn): Promise<{ text: string; last: TurnEvent | undefined }> {
  let text = '';
  let last: TurnEvent | undefined;
  for await (const event of turn.events()) {
    if (event.type === 'content') text += event.text;
    last = event;
  }
  return { text, last };
}
