import type { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../../domain/errors';
import type { ActiveTurn, TurnEvent } from '../../../use-cases/start-turn';

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
const { respondWithTurn } = await import('../../../functions/http/chat-responses');

const caller = { userId: 'u1', tier: 'free' } as const;

/** A turn whose events are `script`; `pulled` counts what the response read. */
function scriptedTurn(script: readonly TurnEvent[]) {
  const state = { pulled: 0, ended: false };
  const turn: ActiveTurn = {
    messageId: 'm1',
    conversationId: 'c1',
    async *events() {
      for (const event of script) {
        state.pulled++;
        yield event;
      }
      state.ended = true;
    },
  };
  return { turn, state };
}

async function bodyOf(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += Buffer.from(chunk).toString('utf8');
  return text;
}

describe('respondWithTurn, streaming', () => {
  it('writes meta, the first chunk at once, what followed it in one frame, end and [DONE], byte for byte', async () => {
    // Prepare
    const { turn } = scriptedTurn([
      { type: 'content', text: 'Hel' },
      { type: 'content', text: 'lo "you"\n' },
      { type: 'end', status: 'completed', stored: true, finishReason: 'stop' },
    ]);

    // Act
    const result = await respondWithTurn(turn, { stream: true, prompt: 'q' }, caller, Date.now());

    // Assess
    expect(result.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(result.headers['x-message-id']).toBe('m1');
    if (typeof result.body === 'string') throw new Error('expected a stream');
    expect(await bodyOf(result.body)).toBe(
      'event: meta\ndata: {"message_id":"m1","conversation_id":"c1"}\n\n' +
        'data: {"content":"Hel"}\n\n' +
        'data: {"content":"lo \\"you\\"\\n"}\n\n' +
        'event: end\ndata: {"message_id":"m1","status":"completed","stored":true,"finish_reason":"stop"}\n\n' +
        'data: [DONE]\n\n',
    );
  });

  it('ends with an error event and no [DONE] when the turn fails after the headers', async () => {
    // Prepare
    const { turn } = scriptedTurn([
      { type: 'content', text: 'Hel' },
      { type: 'error', error: new DomainError('upstream_error', 'The model failed.'), stored: true },
    ]);

    // Act
    const result = await respondWithTurn(turn, { stream: true, prompt: 'q' }, caller, Date.now());

    // Assess
    if (typeof result.body === 'string') throw new Error('expected a stream');
    const text = await bodyOf(result.body);
    expect(text).toMatch(
      /event: error\ndata: \{"error":\{"code":"upstream_error","message":"The model failed."\}\}\n\n$/,
    );
    expect(text).not.toContain('[DONE]');
  });

  it('still runs the turn to its end when the response stream is torn down early', async () => {
    // Prepare
    const { turn, state } = scriptedTurn([
      { type: 'content', text: 'a' },
      { type: 'content', text: 'b' },
      { type: 'end', status: 'completed', stored: true },
    ]);
    const result = await respondWithTurn(turn, { stream: true, prompt: 'q' }, caller, Date.now());
    if (typeof result.body === 'string') throw new Error('expected a stream');

    // Act
    for await (const _chunk of result.body) break;
    await vi.waitFor(() => expect(state.ended).toBe(true));

    // Assess
    expect(state.pulled).toBe(3);
  });
});

describe('respondWithTurn, buffered', () => {
  it('answers once the turn ended, with the whole text', async () => {
    // Prepare
    const { turn } = scriptedTurn([
      { type: 'content', text: 'Hi' },
      { type: 'end', status: 'completed', stored: true },
    ]);

    // Act
    const result = await respondWithTurn(turn, { stream: false, prompt: 'q' }, caller, Date.now());

    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('{"message_id":"m1","response":"Hi","conversation_id":"c1"}');
  });
});
