/**
 * ChatService and the Idempotency-Key on its real adapters (support/chat-service-harness.ts): a retry
 * never starts a second inference, may run once a refusal for load has passed, and takes over a key whose
 * first attempt died before its turn was recorded.
 */

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyClaims } from '../../adapters/dynamodb/idempotency-claims';
import { systemClock } from '../../domain/ports';
import { ask, caller, db, drain, gpuA, publishFleet, service } from './support/chat-service-harness';

describe('ChatService with an Idempotency-Key', () => {
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
});
