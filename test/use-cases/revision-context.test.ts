/**
 * Regenerations and edits through ChatService on dynalite and a simulated server: the prompt sent for a
 * revision leaves out the turn it redoes (and, for an edit, every turn after it), and the next turn's
 * prompt holds the revision in place of the turn it replaced.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../domain/chat-request';
import type { ChatMessage } from '../../domain/turn';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import type { ChatService } from '../../use-cases/start-turn';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';
import { oneServerChat, recordingMessages } from './support/one-server-chat';

let db: TestDynamoDb;
let gpu: SimulatedServerHandle;
const sent: (readonly ChatMessage[])[] = [];
let service: ChatService;

beforeAll(async () => {
  db = await startTestDynamoDb();
  gpu = await startSimulatedServer({
    id: 'gpu-a',
    tokensPerSecond: 1000,
    answerTokens: 10,
    timeToFirstTokenMs: 5,
  });
  service = oneServerChat(db, gpu, {}, { wrapModel: recordingMessages(sent) });
});

afterAll(async () => {
  await gpu?.close();
  await db?.close();
});

async function run(userId: string, request: ChatRequest) {
  const turn = await service.begin({ userId, tier: 'free' }, request);
  for await (const event of turn.events()) expect(event.type).not.toBe('error');
  return turn;
}

/** The user messages of the prompt sent last. */
const promptsSent = () => (sent.at(-1) ?? []).filter((m) => m.role === 'user').map((m) => m.content);

describe('context of a revised turn', () => {
  it('a regeneration is asked without the answer it replaces, and the next turn sees only the regeneration', async () => {
    // Prepare: two turns in one conversation.
    const userId = randomUUID();
    sent.length = 0;
    const first = await run(userId, { prompt: 'One', stream: true });
    const conversationId = first.conversationId;
    const second = await run(userId, { prompt: 'Two', stream: true, conversationId });
    const answersBefore = (sent.at(-1) ?? []).filter((m) => m.role === 'assistant');

    // Act: regenerate the second turn, then ask a third.
    const again = await run(userId, {
      prompt: 'Two',
      stream: true,
      conversationId,
      revises: { kind: 'regeneration', of: second.messageId },
    });
    const regenerationPrompt = sent.at(-1) ?? [];
    await run(userId, { prompt: 'Three', stream: true, conversationId });

    // Assess: the regeneration's prompt is the second turn's own (its answer not in it); the third holds
    // One, the regenerated Two and Three, once each.
    expect(again.conversationId).toBe(conversationId);
    expect(regenerationPrompt.filter((m) => m.role === 'assistant')).toEqual(answersBefore);
    expect(regenerationPrompt.filter((m) => m.role === 'user').map((m) => m.content)).toEqual(['One', 'Two']);
    expect(promptsSent()).toEqual(['One', 'Two', 'Three']);
  });

  it('an edit of an earlier turn is asked without that turn or any after it', async () => {
    const userId = randomUUID();
    sent.length = 0;
    const first = await run(userId, { prompt: 'One', stream: true });
    const conversationId = first.conversationId;
    const second = await run(userId, { prompt: 'Two', stream: true, conversationId });
    await run(userId, { prompt: 'Three', stream: true, conversationId });

    await run(userId, {
      prompt: 'Two, edited',
      stream: true,
      conversationId,
      revises: { kind: 'edit', of: second.messageId },
    });

    expect(promptsSent()).toEqual(['One', 'Two, edited']);
  });
});
