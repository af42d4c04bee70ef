/**
 * The chat use case on its real adapters: dynalite, the SQS emulator, simulated inference servers
 * over HTTP and the OpenAI-protocol client. Only faults are injected (a table that refuses writes).
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbConversationRepository } from '../../adapters/dynamodb/conversation-repository';
import { DynamoDbFleetRepository } from '../../adapters/dynamodb/fleet-repository';
import { DynamoDbIdempotencyClaims } from '../../adapters/dynamodb/idempotency-claims';
import { DynamoDbStopFlags } from '../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { OpenAiModelClient } from '../../adapters/inference/openai-model-client';
import { parsePendingWrite } from '../../adapters/sqs/pending-write-message';
import { SqsTurnWriteQueue } from '../../adapters/sqs/sqs-turn-write-queue';
import { SqsStopDelivery, SqsStopInbox } from '../../adapters/sqs/stop-inbox';
import { defaultBackoffPolicy } from '../../contract/backoff';
import type { ChatRequest } from '../../domain/chat-request';
import { DomainError } from '../../domain/errors';
import { defaultFleetPolicy, type FleetState } from '../../domain/fleet';
import { type NewTurn, systemClock } from '../../domain/ports';
import type { Caller, TurnOutcome } from '../../domain/turn';
import { type LocalSqs, startSqs } from '../../local/emulators/sqs';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import { FleetGate } from '../../use-cases/fleet-gate';
import { applyPendingWrite } from '../../use-cases/persist-parked-write';
import { type ActiveTurn, ChatService, type TurnEvent } from '../../use-cases/start-turn';
import { requestStop } from '../../use-cases/stop-turn';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

let db: TestDynamoDb;
let sqs: LocalSqs;
let sqsClient: SQSClient;
let repository: DynamoDbTurnRepository;
let gpuA: SimulatedServerHandle;
let gpuB: SimulatedServerHandle;
const fleetOptions = { tokensPerSecond: 80, answerTokens: 40, timeToFirstTokenMs: 10 };

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
async function publishFleet(servers: SimulatedServerHandle[]): Promise<void> {
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

const STOP_PREFIX = 'test-stop-';

function service(
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

const caller = (tier: Caller['tier'] = 'free'): Caller => ({ userId: randomUUID(), tier });
const ask = (prompt = 'How do streams work?', extra: Partial<ChatRequest> = {}): ChatRequest => ({
  prompt,
  stream: true,
  ...extra,
});

async function drain(turn: ActiveTurn): Promise<{ text: string; last: TurnEvent | undefined }> {
  let text = '';
  let last: TurnEvent | undefined;
  for await (const event of turn.events()) {
    if (event.type === 'content') text += event.text;
    last = event;
  }
  return { text, last };
}

describe('ChatService', () => {
  it('streams a turn and stores exactly the streamed answer as completed', async () => {
    await publishFleet([gpuA, gpuB]);
    const who = caller();
    const turn = await service().begin(who, ask());
    const { text, last } = await drain(turn);
    expect(last).toMatchObject({ type: 'end', status: 'completed', stored: true, finishReason: 'stop' });
    const stored = await repository.getTurn(who.userId, turn.messageId);
    expect(stored).toMatchObject({ status: 'completed', assistantResponse: text, server: 'gpu-a' });
    expect(stored?.usage?.completionTokens).toBe(40);
  });

  const closedSqs = () =>
    new SQSClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });

  it.each([
    ['pushed to the container inbox the turn recorded', undefined, true],
    ['polled from the stop flag when no inbox can be had', closedSqs(), false],
  ])(
    'stops on request (%s): the server sees the abort, the partial answer is kept as stopped',
    async (_, stopInboxSqs, viaInbox) => {
      await publishFleet([gpuA]);
      gpuA.setOptions({ tokensPerSecond: 20, answerTokens: 200 });
      const abortedBefore = gpuA.stats().aborted;
      const who = caller();
      const stopFlags = new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, systemClock);
      const turn = await service(stopInboxSqs ? { stopInboxSqs } : {}).begin(who, ask());
      const recorded = await repository.getTurn(who.userId, turn.messageId);
      expect(recorded?.stopInbox !== undefined).toBe(viaInbox);
      let text = '';
      let chunks = 0;
      let stoppedAt = 0;
      let last: TurnEvent | undefined;
      for await (const event of turn.events()) {
        if (event.type === 'content') {
          text += event.text;
          chunks++;
          if (chunks === 3) {
            await requestStop(
              {
                repository,
                stopFlags,
                stopDelivery: new SqsStopDelivery(sqsClient, STOP_PREFIX),
                clock: systemClock,
                maxTurnMs: 20_000,
              },
              who,
              turn.messageId,
            );
            stoppedAt = chunks;
          }
        }
        last = event;
      }
      expect(last).toMatchObject({ type: 'end', status: 'stopped', stored: true });
      // At 20 tokens/s, a stop seen within a second leaves at most ~20 more chunks.
      expect(chunks - stoppedAt).toBeLessThan(25);
      expect(gpuA.stats().aborted).toBeGreaterThan(abortedBefore);
      const stored = await repository.getTurn(who.userId, turn.messageId);
      expect(stored).toMatchObject({ status: 'stopped', assistantResponse: text });
      expect(stored?.stopInbox).toBeUndefined();
    },
  );

  it('fails over to another server when the chosen one is dead before the first token', async () => {
    await publishFleet([gpuA, gpuB]);
    await gpuA.kill();
    const turn = await service().begin(caller(), ask());
    expect(turn.serverId).toBe('gpu-b');
    expect((await drain(turn)).last).toMatchObject({ type: 'end', status: 'completed' });
  });

  it('fails over when the chosen server refuses for load, and answers 503 by tier when all refuse', async () => {
    await publishFleet([gpuA, gpuB]);
    gpuA.setOptions({ maxQueue: 0, slots: 1, tokensPerSecond: 5 });
    const blocker = await service().begin(caller('premium'), ask('fill gpu-a'));
    expect(blocker.serverId).toBe('gpu-a');
    const next = await service().begin(caller(), ask());
    expect(next.serverId).toBe('gpu-b');
    await drain(next);

    gpuB.setOptions({ maxQueue: 0, slots: 1, tokensPerSecond: 5 });
    const blockerB = await service().begin(caller('premium'), ask('fill gpu-b'));
    const error = await service()
      .begin(caller('premium'), ask())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('overloaded');
    expect((error as DomainError).details.retry_after_seconds).toBe(10);
    // A prompt every server refused leaves no turn behind, like one refused at admission.
    const refusedCaller = caller();
    await service()
      .begin(refusedCaller, ask())
      .catch(() => undefined);
    expect((await repository.listTurns(refusedCaller.userId, { limit: 10 })).turns).toEqual([]);
    gpuA.setOptions({ tokensPerSecond: 500 });
    gpuB.setOptions({ tokensPerSecond: 500 });
    await Promise.all([drain(blocker), drain(blockerB)]);
  });

  it('marks the turn failed, keeping the partial text, when the server dies mid-stream', async () => {
    await publishFleet([gpuA]);
    gpuA.setOptions({ tokensPerSecond: 20 });
    const who = caller();
    const turn = await service().begin(who, ask());
    let text = '';
    let last: TurnEvent | undefined;
    let chunks = 0;
    for await (const event of turn.events()) {
      if (event.type === 'content') {
        text += event.text;
        if (++chunks === 2) await gpuA.kill();
      }
      last = event;
    }
    expect(last).toMatchObject({ type: 'error', stored: true });
    expect(last?.type === 'error' && last.error.code).toBe('upstream_error');
    expect(await repository.getTurn(who.userId, turn.messageId)).toMatchObject({
      status: 'failed',
      assistantResponse: text,
      errorCode: 'upstream_error',
    });
  });

  it('fails a turn whose server stalls longer than the idle time-out instead of hanging', async () => {
    await publishFleet([gpuA]);
    gpuA.setOptions({ tokensPerSecond: 20 });
    const who = caller();
    const turn = await service({ idleTimeoutMs: 300 }).begin(who, ask());
    gpuA.stall(Number.POSITIVE_INFINITY);
    const { last } = await drain(turn);
    expect(last?.type === 'error' && last.error.code).toBe('upstream_timeout');
    expect((await repository.getTurn(who.userId, turn.messageId))?.status).toBe('failed');
  });

  it('never starts a second inference for a retried Idempotency-Key', async () => {
    await publishFleet([gpuA]);
    gpuA.setOptions({ tokensPerSecond: 40 });
    const who = caller();
    const key = randomUUID();
    const first = await service().begin(who, ask('same', { idempotencyKey: key }));
    // While the first is still streaming: 409 in_progress with its message id.
    const during = await service()
      .begin(who, ask('same', { idempotencyKey: key }))
      .catch((e: unknown) => e);
    expect(during).toMatchObject({ code: 'in_progress', details: { message_id: first.messageId } });
    const { text } = await drain(first);
    const requestsAfterFirst = gpuA.stats().requestsTotal;

    // A declared retry (x-retry-attempt) claims before any upstream request: no second inference at all.
    const replay = await service().begin(who, ask('same', { idempotencyKey: key, retryAttempt: 1 }));
    expect(replay.messageId).toBe(first.messageId);
    expect((await drain(replay)).text).toBe(text);
    expect(gpuA.stats().requestsTotal).toBe(requestsAfterFirst);

    // An undeclared duplicate claims beside its upstream request, which is closed once the claim is lost.
    const abortedBefore = gpuA.stats().aborted;
    const duplicate = await service().begin(who, ask('same', { idempotencyKey: key }));
    expect(duplicate.messageId).toBe(first.messageId);
    expect((await drain(duplicate)).text).toBe(text);
    await expect.poll(() => gpuA.stats().aborted).toBe(abortedBefore + 1);

    const conflict = await service()
      .begin(who, ask('another prompt', { idempotencyKey: key }))
      .catch((e: unknown) => e);
    expect(conflict).toMatchObject({ code: 'conflict' });
  });

  it('lets a retry with the same Idempotency-Key run once a refusal for load has passed', async () => {
    // gpu-a is full (one slot, no queue), so the prompt is refused for load...
    await publishFleet([gpuA]);
    gpuA.setOptions({ maxQueue: 0, slots: 1, tokensPerSecond: 5 });
    const blocker = await service().begin(caller('premium'), ask('fill gpu-a'));
    const who = caller();
    const key = randomUUID();
    const refused = await service()
      .begin(who, ask('retry me', { idempotencyKey: key, retryAttempt: 0 }))
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'overloaded' });
    gpuA.setOptions({ tokensPerSecond: 500 });
    await drain(blocker);
    // ...and the automatic retry with the same key is answered, not held at 409 "still being answered".
    const retried = await service().begin(who, ask('retry me', { idempotencyKey: key, retryAttempt: 1 }));
    expect((await drain(retried)).last).toMatchObject({ type: 'end', status: 'completed' });
  });

  it('takes over a key whose first attempt died before its turn was ever recorded', async () => {
    await publishFleet([gpuA]);
    const who = caller();
    const key = randomUUID();
    const claims = new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, systemClock);
    const request = ask('orphaned', { idempotencyKey: key });
    // The first attempt claimed the key long ago and died: no turn exists for it.
    const firstTry = await service().begin(who, request).then(drain);
    expect(firstTry.last).toMatchObject({ type: 'end', status: 'completed' });
    const held = await claims.get(who.userId, key);
    if (!held) throw new Error('claim missing');
    const orphanKey = randomUUID();
    await claims.claim(who.userId, orphanKey, {
      ...held,
      messageId: 'dead-attempt',
      claimedAt: Date.now() - 600_000,
    });
    const retried = await service().begin(who, { ...request, idempotencyKey: orphanKey });
    expect(retried.messageId).not.toBe('dead-attempt');
    expect((await drain(retried)).last).toMatchObject({ type: 'end', status: 'completed' });
    // A recent orphan is still "being answered": 409 without naming a turn that may never exist.
    const recentKey = randomUUID();
    await claims.claim(who.userId, recentKey, { ...held, messageId: 'maybe-alive', claimedAt: Date.now() });
    const recent = await service()
      .begin(who, { ...request, idempotencyKey: recentKey })
      .catch((e: unknown) => e);
    expect(recent).toMatchObject({ code: 'in_progress', details: {} });
  });

  it('parks the start itself when the table refuses the in_progress write, before any answer is sent', async () => {
    await publishFleet([gpuA]);
    class RefusingStart extends DynamoDbTurnRepository {
      override async startTurn(_turn: NewTurn): Promise<void> {
        const error = new Error('Internal server error');
        error.name = 'InternalServerError';
        throw error;
      }
    }
    const who = caller();
    const turn = await service({ repository: new RefusingStart(db.doc, db.tableNames.ChatTable) }).begin(
      who,
      ask(),
    );
    const received = await sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrls.TurnWritesQueue,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    const parked = received.Messages?.map((m) => parsePendingWrite(m.Body ?? '')).find(
      (w) => w.turn.id === turn.messageId,
    );
    expect(parked?.outcome).toBeUndefined();
    const { last } = await drain(turn);
    // The final write creates the turn anyway; the parked start then changes nothing.
    expect(last).toMatchObject({ type: 'end', status: 'completed', stored: true });
    if (parked) expect(await applyPendingWrite(repository, parked)).toBe(false);
  });

  it('parks the final write on SQS when the table refuses it, and the persister applies it later', async () => {
    await publishFleet([gpuA]);
    class ThrottledFinish extends DynamoDbTurnRepository {
      override async finishTurn(_turn: NewTurn, _outcome: TurnOutcome): Promise<boolean> {
        const error = new Error('Rate of requests exceeds the allowed throughput.');
        error.name = 'ProvisionedThroughputExceededException';
        throw error;
      }
    }
    const who = caller();
    const turn = await service({ repository: new ThrottledFinish(db.doc, db.tableNames.ChatTable) }).begin(
      who,
      ask(),
    );
    const { text, last } = await drain(turn);
    expect(last).toMatchObject({ type: 'end', status: 'completed', stored: false });
    expect((await repository.getTurn(who.userId, turn.messageId))?.status).toBe('in_progress');

    const received = await sqsClient.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrls.TurnWritesQueue,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    const body = received.Messages?.map((m) => parsePendingWrite(m.Body ?? '')).find(
      (w) => w.turn.id === turn.messageId,
    );
    expect(body).toBeDefined();
    if (body) {
      expect(await applyPendingWrite(repository, body)).toBe(true);
      // A redelivery changes nothing.
      expect(await applyPendingWrite(repository, body)).toBe(false);
    }
    expect(await repository.getTurn(who.userId, turn.messageId)).toMatchObject({
      status: 'completed',
      assistantResponse: text,
    });
  });

  it('sends the earlier completed turns of a conversation as context', async () => {
    await publishFleet([gpuA]);
    const who = caller();
    const first = await service().begin(who, ask('The secret word is pelican.'));
    await drain(first);
    const promptTokensBefore = gpuA.stats().promptTokensTotal;
    const second = await service().begin(
      who,
      ask('What was the word?', { conversationId: first.conversationId }),
    );
    await drain(second);
    const alone = await service().begin(who, ask('What was the word?'));
    const promptTokensSecond = gpuA.stats().promptTokensTotal - promptTokensBefore;
    await drain(alone);
    const promptTokensAlone = gpuA.stats().promptTokensTotal - promptTokensBefore - promptTokensSecond;
    expect(second.conversationId).toBe(first.conversationId);
    expect(promptTokensSecond).toBeGreaterThan(promptTokensAlone + 20);
  });
});
