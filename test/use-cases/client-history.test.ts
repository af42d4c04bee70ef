/**
 * A turn that carries the client's own earlier messages (the OpenAI protocol's whole list), through
 * ChatService on dynalite and a simulated server: those messages are the context, nothing stored is
 * added on top, only the new message and its answer are stored, in the named conversation.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import type { ChatRequest } from '../../domain/chat-request';
import type { ChatMessage } from '../../domain/turn';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import type { ChatService } from '../../use-cases/start-turn';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';
import { oneServerChat, recordingMessages } from './support/one-server-chat';

let db: TestDynamoDb;
let gpu: SimulatedServerHandle;
let repository: DynamoDbTurnRepository;
const sent: (readonly ChatMessage[])[] = [];
let service: ChatService;

beforeAll(async () => {
  db = await startTestDynamoDb();
  repository = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
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

describe('a turn with the client’s own history', () => {
  it('sends the client’s messages and the prompt, not the conversation’s stored turns, and stores only the new message', async () => {
    // Prepare: a stored turn in the conversation, which POST /chat would send as context.
    const userId = randomUUID();
    sent.length = 0;
    const stored = await run(userId, { prompt: 'Stored earlier', stream: true });
    const history: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Client one' },
      { role: 'assistant', content: 'Client uno' },
    ];

    // Act
    const turn = await run(userId, {
      prompt: 'Two',
      stream: false,
      history,
      conversationId: stored.conversationId,
    });

    // Assess
    expect(sent[1]).toEqual([...history, { role: 'user', content: 'Two' }]);
    const saved = await repository.getTurn(userId, turn.messageId);
    expect(saved).toMatchObject({
      userMessage: 'Two',
      conversationId: stored.conversationId,
      status: 'completed',
    });
    // The server's counts covered the client's messages, not stored turns: no contextFrom to count by.
    expect(saved?.contextFrom).toBeUndefined();
    // POST /chat's next turn in the conversation still gets the stored turns as context.
    await run(userId, { prompt: 'Three', stream: true, conversationId: stored.conversationId });
    expect(sent[2]?.map((message) => message.content)).toEqual([
      'Stored earlier',
      expect.any(String),
      'Two',
      expect.any(String),
      'Three',
    ]);
  });

  it('makes the history part of what an Idempotency-Key binds: the same key with another history is a conflict', async () => {
    const userId = randomUUID();
    const request = {
      prompt: 'Same',
      stream: false,
      idempotencyKey: 'k-1',
      history: [{ role: 'user' as const, content: 'a' }],
    };
    await run(userId, request);
    await expect(
      service.begin({ userId, tier: 'free' }, { ...request, history: [{ role: 'user', content: 'b' }] }),
    ).rejects.toMatchObject({ code: 'conflict' });
  });
});
