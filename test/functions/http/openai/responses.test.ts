import type { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../../../domain/errors';
import type { ActiveTurn, TurnEvent } from '../../../../use-cases/start-turn';

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
const { respondWithTurn } = await import('../../../../functions/http/chat-responses');
const { completionWire } = await import('../../../../functions/http/openai/responses');

const caller = { userId: 'u1', tier: 'free' } as const;
const CREATED_AT = Date.UTC(2026, 11, 3, 12, 0, 0);

const turnOf = (script: readonly TurnEvent[]): ActiveTurn => ({
  messageId: 'm1',
  conversationId: 'c1',
  async *events() {
    yield* script;
  },
});

async function dataEvents(stream: Readable): Promise<string[]> {
  let text = '';
  for await (const chunk of stream) text += Buffer.from(chunk).toString('utf8');
  return text
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      expect(frame.startsWith('data: ')).toBe(true);
      return frame.slice('data: '.length);
    });
}

const usage = { promptTokens: 7, completionTokens: 3 };
const answered: TurnEvent[] = [
  { type: 'content', text: 'Hel' },
  { type: 'content', text: 'lo' },
  { type: 'end', status: 'completed', stored: true, finishReason: 'stop', usage },
];

describe('the chat-completions wire', () => {
  it('streams a role chunk, content deltas, a finish chunk, the usage chunk when asked, then [DONE]', async () => {
    // Act
    const result = await respondWithTurn(
      turnOf(answered),
      { stream: true, prompt: 'q' },
      caller,
      Date.now(),
      0,
      completionWire({ model: 'local-llm', includeUsage: true, createdAt: CREATED_AT }),
    );
    if (typeof result.body === 'string') throw new Error('not streamed');
    const events = await dataEvents(result.body);

    // Assess
    expect(result.headers).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'x-message-id': 'm1',
      'x-conversation-id': 'c1',
    });
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
    const base = {
      id: 'chatcmpl-m1',
      object: 'chat.completion.chunk',
      created: CREATED_AT / 1000,
      model: 'local-llm',
    };
    const choice = (delta: object, finish: string | null) => [
      { index: 0, delta, finish_reason: finish, logprobs: null },
    ];
    expect(chunks).toEqual([
      { ...base, choices: choice({ role: 'assistant', content: '' }, null), usage: null },
      { ...base, choices: choice({ content: 'Hel' }, null), usage: null },
      { ...base, choices: choice({ content: 'lo' }, null), usage: null },
      { ...base, choices: choice({}, 'stop'), usage: null },
      { ...base, choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } },
    ]);
  });

  it('leaves usage out of the chunks unless include_usage, and says length for a capped answer', async () => {
    const result = await respondWithTurn(
      turnOf([
        { type: 'content', text: 'x' },
        { type: 'end', status: 'completed', stored: true, finishReason: 'length', usage },
      ]),
      { stream: true, prompt: 'q' },
      caller,
      Date.now(),
      0,
      completionWire({ model: 'local-llm', includeUsage: false, createdAt: CREATED_AT }),
    );
    if (typeof result.body === 'string') throw new Error('not streamed');
    const chunks = (await dataEvents(result.body)).slice(0, -1).map((event) => JSON.parse(event));
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('length');
  });

  it('sends a failure after the headers as an OpenAI error event, without [DONE]', async () => {
    const result = await respondWithTurn(
      turnOf([
        { type: 'content', text: 'par' },
        {
          type: 'error',
          error: new DomainError('upstream_error', 'The model could not answer.'),
          stored: true,
        },
      ]),
      { stream: true, prompt: 'q' },
      caller,
      Date.now(),
      0,
      completionWire({ model: 'local-llm', includeUsage: false, createdAt: CREATED_AT }),
    );
    if (typeof result.body === 'string') throw new Error('not streamed');
    const events = await dataEvents(result.body);
    expect(events).not.toContain('[DONE]');
    expect(JSON.parse(events.at(-1) ?? '')).toEqual({
      error: {
        message: 'The model could not answer.',
        type: 'server_error',
        param: null,
        code: 'upstream_error',
      },
    });
  });

  it('answers a buffered request with a chat.completion, usage and the ids the turn is stored under', async () => {
    const result = await respondWithTurn(
      turnOf(answered),
      { stream: false, prompt: 'q' },
      caller,
      Date.now(),
      0,
      completionWire({ model: 'local-llm', includeUsage: false, createdAt: CREATED_AT }),
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body as string)).toEqual({
      id: 'chatcmpl-m1',
      object: 'chat.completion',
      created: CREATED_AT / 1000,
      model: 'local-llm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', refusal: null },
          finish_reason: 'stop',
          logprobs: null,
        },
      ],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
      conversation_id: 'c1',
      message_id: 'm1',
    });
  });
});
