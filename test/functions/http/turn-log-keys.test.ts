/**
 * Every log line of a POST /chat request after auth names its request, caller and turn, to the end of
 * the stream (which outlives the handler), and no other request's: the real handler, ChatService on
 * dynalite and a simulated server, the use cases logging through the function's logger.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SecretsManagerSecret } from '../../../adapters/secrets/secrets-manager-secret';
import type { HttpEvent } from '../../../functions/http/event';
import { OriginGuard } from '../../../functions/http/origin-guard';
import { originSecret } from '../../../lib/resources';
import { type SimulatedServerHandle, startSimulatedServer } from '../../../local/fleet/server';
import { createLambdaContext } from '../../../local/gateway/lambda-context';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';
import { startTestSecretsManager, type TestSecretsManager } from '../../support/secrets';
import { meteredChat, oneServerChat } from '../../use-cases/support/one-server-chat';

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
const { requestLog } = await import('../../../functions/commons/logger');
const { authenticatorFor } = await import('../../../functions/http/auth');
const { chatHandler } = await import('../../../functions/http/chat-handler');

type StreamingHandler = (event: HttpEvent, stream: Writable, context: Context) => Promise<void>;
type Line = Record<string, unknown>;

let db: TestDynamoDb;
let gpu: SimulatedServerHandle;
let secrets: TestSecretsManager;
let handler: StreamingHandler;

beforeAll(async () => {
  db = await startTestDynamoDb();
  gpu = await startSimulatedServer({
    id: 'gpu-a',
    tokensPerSecond: 200,
    answerTokens: 40,
    timeToFirstTokenMs: 5,
  });
  const chat = oneServerChat(db, gpu, {}, { log: requestLog });
  // The real authenticator's key handling over a verifier that trusts the header's user id ('crash' throws).
  const authenticate = authenticatorFor({
    verify: async (authorization) => {
      if (authorization === 'crash') throw new Error('verifier crashed');
      return { userId: String(authorization), tier: 'premium' };
    },
  });
  secrets = await startTestSecretsManager({ origin: 'from-cloudfront' });
  const origin = new OriginGuard(new SecretsManagerSecret(secrets.client, 'origin'), requestLog);
  handler = chatHandler({
    chat: meteredChat(db, chat),
    origin,
    authenticate,
    maxPromptChars: 1000,
    sseFlushMs: 0,
  }).handler as unknown as StreamingHandler;
});

afterAll(async () => {
  await secrets?.close();
  await gpu?.close();
  await db?.close();
});

afterEach(() => vi.restoreAllMocks());

/** Every JSON log line the process writes from now on (EMF documents left out). */
function captureLogLines(): Line[] {
  const lines: Line[] = [];
  const record = (text: string) => {
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      const parsed = JSON.parse(raw) as Line;
      if (!('_aws' in parsed)) lines.push(parsed);
    }
  };
  // Powertools writes warnings and errors to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      record(String(chunk));
      return true;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => record(args.map(String).join(' ')));
  }
  return lines;
}

function chatEvent(userId: string): HttpEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/chat',
    rawQueryString: '',
    headers: {
      authorization: userId,
      'content-type': 'application/json',
      [originSecret.header]: 'from-cloudfront',
    },
    body: JSON.stringify({ prompt: 'SECRET-PROMPT', stream: true }),
    isBase64Encoded: false,
    requestContext: {
      requestId: randomUUID(),
      http: { method: 'POST', path: '/chat', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    },
  } as unknown as HttpEvent;
}

/** A response stream that keeps the body, or goes away after `closeAfterBytes`, like a client that leaves. */
function responseStream(closeAfterBytes = Number.POSITIVE_INFINITY) {
  let body = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      body += chunk.toString('utf8');
      if (body.length > closeAfterBytes) this.destroy();
      done();
    },
  });
  return { stream, body: () => body };
}

async function invoke(event: HttpEvent, stream: Writable): Promise<void> {
  const context = createLambdaContext({ id: 'PostChat', memoryMb: 1024, timeoutSeconds: 60 });
  await handler(event, stream, context).catch(() => undefined); // a client gone fails the pipeline
}

const ofRequest = (lines: Line[], event: HttpEvent) =>
  lines.filter((line) => line.correlation_id === event.requestContext.requestId);

async function turnEnded(lines: Line[], event: HttpEvent): Promise<Line[]> {
  await expect.poll(() => ofRequest(lines, event).some((line) => line.message === 'turn ended')).toBe(true);
  return ofRequest(lines, event);
}

/** Every line of the request carries its three keys, and no line carries them for another. */
function expectKeyed(lines: Line[], event: HttpEvent, userId: string): Line[] {
  const own = ofRequest(lines, event);
  expect(own.length).toBeGreaterThan(0);
  const messageId = own[0]?.message_id;
  expect(messageId).toEqual(expect.any(String));
  for (const line of own) {
    expect(line, String(line.message)).toMatchObject({ user_id: userId, message_id: messageId });
  }
  expect(lines.filter((line) => line.user_id === userId && !own.includes(line))).toEqual([]);
  expect(JSON.stringify(lines)).not.toContain('SECRET');
  return own;
}

describe('the log lines of a streamed turn', () => {
  it('all carry correlation_id, user_id and message_id, the "turn ended" line after the handler included', async () => {
    const lines = captureLogLines();
    const event = chatEvent('user-a');
    const response = responseStream();
    await invoke(event, response.stream);
    expect(response.body()).toContain('[DONE]');
    const own = expectKeyed(lines, event, 'user-a');
    expect(own.find((line) => line.message === 'turn ended')).toMatchObject({ status: 'completed' });
  });

  it('keep them when the upstream fails mid-stream', async () => {
    const lines = captureLogLines();
    const event = chatEvent('user-b');
    const response = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (chunk.toString('utf8').includes('"content"')) void gpu.kill();
        done();
      },
    });
    try {
      await invoke(event, response);
      await turnEnded(lines, event);
    } finally {
      await gpu.restart();
    }
    const own = expectKeyed(lines, event, 'user-b');
    expect(own.find((line) => line.message === 'turn ended')).toMatchObject({ status: 'failed' });
    expect(own.filter((line) => line.level === 'WARN' || line.level === 'ERROR')).not.toEqual([]);
  });

  it('keep them when the client goes away and the turn runs on unread', async () => {
    const lines = captureLogLines();
    const event = chatEvent('user-c');
    // Past the prelude (status, headers with the rate-limit ones) and the first frames: mid-stream.
    await invoke(event, responseStream(600).stream);
    await turnEnded(lines, event);
    expectKeyed(lines, event, 'user-c');
  });

  it('do not reach the next request, nor one running at the same time', async () => {
    const lines = captureLogLines();
    const [first, second] = [chatEvent('user-d'), chatEvent('user-e')];
    await Promise.all([invoke(first, responseStream().stream), invoke(second, responseStream().stream)]);
    const next = chatEvent('crash'); // fails in auth, logged: no caller, no turn
    await invoke(next, responseStream().stream);
    expectKeyed(lines, first, 'user-d');
    expectKeyed(lines, second, 'user-e');
    const refused = ofRequest(lines, next);
    expect(refused).not.toEqual([]);
    for (const line of refused) {
      expect(line).not.toHaveProperty('user_id');
      expect(line).not.toHaveProperty('message_id');
    }
    // Every line belongs to some request: none escaped its scope.
    expect(lines.filter((line) => line.correlation_id === undefined)).toEqual([]);
  });
});
