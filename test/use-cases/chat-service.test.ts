/**
 * The chat use case on its real adapters (support/chat-service-harness.ts): streaming, failover, faults,
 * parked writes and context. Idempotency-Key retries are in chat-service-idempotency.test.ts.
 */

import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { DynamoDbStopFlags } from '../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { parsePendingWrite } from '../../adapters/sqs/pending-write-message';
import { SqsStopDelivery } from '../../adapters/sqs/stop-inbox';
import { DomainError } from '../../domain/errors';
import { type NewTurn, systemClock } from '../../domain/ports';
import type { TurnOutcome } from '../../domain/turn';
import { applyPendingWrite } from '../../use-cases/persist-parked-write';
import type { TurnEvent } from '../../use-cases/start-turn';
import { requestStop } from '../../use-cases/stop-turn';
import {
  ask,
  caller,
  db,
  drain,
  gpuA,
  gpuB,
  publishFleet,
  repository,
  STOP_PREFIX,
  service,
  sqs,
  sqsClient,
} from './support/chat-service-harness';

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
