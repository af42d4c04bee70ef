/**
 * An answer longer than a turn can hold, through ChatService on dynalite and a simulated
 * OpenAI-compatible server: cut at MAX_ANSWER_BYTES, kept and shown up to there, never completed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { listHistory } from '../../domain/history';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import type { TurnEvent } from '../../use-cases/start-turn';
import { utf8Prefix } from '../../use-cases/stream-turn';
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
    tokensPerSecond: 400,
    answerTokens: 400,
    timeToFirstTokenMs: 5,
  });
});

afterAll(async () => {
  await gpu?.close();
  await db?.close();
});

const service = (maxAnswerBytes: number) => oneServerChat(db, gpu, { maxAnswerBytes });

describe('an answer longer than a turn can hold', () => {
  it('is cut at the byte cap: shown and stored up to there, the upstream closed, the turn failed', async () => {
    const userId = randomUUID();
    const abortedBefore = gpu.stats().aborted;
    const turn = await service(600).begin(
      { userId, tier: 'free' },
      { prompt: 'Tell me everything.', stream: true },
    );
    let shown = '';
    let last: TurnEvent | undefined;
    for await (const event of turn.events()) {
      if (event.type === 'content') shown += event.text;
      last = event;
    }
    expect(last).toMatchObject({ type: 'error', stored: true, error: { code: 'answer_too_long' } });
    expect(Buffer.byteLength(shown)).toBeLessThanOrEqual(600);
    expect(Buffer.byteLength(shown)).toBeGreaterThan(500);
    await expect.poll(() => gpu.stats().aborted).toBeGreaterThan(abortedBefore);
    const stored = await repository.getTurn(userId, turn.messageId);
    expect(stored).toMatchObject({
      status: 'failed',
      errorCode: 'answer_too_long',
      assistantResponse: shown,
    });
  });
});

describe('utf8Prefix', () => {
  it('cuts between code points, never inside one', () => {
    expect(utf8Prefix('abc', 2)).toBe('ab');
    expect(utf8Prefix('aé', 2)).toBe('a'); // é is 2 bytes
    expect(utf8Prefix('日本語', 7)).toBe('日本');
    expect(utf8Prefix('a🙂b', 4)).toBe('a'); // the emoji is 4 bytes and 2 UTF-16 units
    expect(utf8Prefix('a🙂b', 5)).toBe('a🙂');
    expect(utf8Prefix('', 10)).toBe('');
  });
});

/**
 * A fault: a model whose every token is 600 characters, so 1,000 tokens — within the token cap — make a
 * 600,000-character answer (what the review saw; its final write then exceeded DynamoDB's item size).
 */
async function startRunawayModel(): Promise<{ id: string; baseUrl: string; close(): Promise<void> }> {
  const token = `${'x'.repeat(599)} `;
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let sent = 0;
    const pump = () => {
      while (sent < 1_000) {
        sent += 1;
        const chunk = { choices: [{ index: 0, delta: { content: token }, finish_reason: null }] };
        if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end('data: [DONE]\n\n');
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    id: 'runaway',
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('a 600,000-character answer within the token cap', () => {
  it('is stored cut at MAX_ANSWER_BYTES (100,000) and listed as failed with answer_too_long', async () => {
    const runaway = await startRunawayModel();
    try {
      const userId = randomUUID();
      const chat = oneServerChat(db, runaway, { maxAnswerTokens: 1_024, maxAnswerBytes: 100_000 });
      const turn = await chat.begin({ userId, tier: 'premium' }, { prompt: 'Go on.', stream: true });
      let shown = 0;
      for await (const event of turn.events()) {
        if (event.type === 'content') shown += Buffer.byteLength(event.text);
      }
      expect(shown).toBeLessThanOrEqual(100_000);
      expect(shown).toBeGreaterThan(99_000);
      const page = await listHistory(repository, { userId, tier: 'premium' }, { limit: 10 });
      expect(page.turns).toHaveLength(1);
      expect(page.turns[0]).toMatchObject({
        id: turn.messageId,
        status: 'failed',
        errorCode: 'answer_too_long',
      });
      expect(Buffer.byteLength(page.turns[0]?.assistantResponse ?? '')).toBe(shown);
    } finally {
      await runaway.close();
    }
  });
});
