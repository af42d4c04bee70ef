import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../domain/errors';
import { parseCompletionRequest } from '../../../../functions/http/openai/requests';

const LIMITS = { maxPromptChars: 20, modelId: 'local-llm' };

const event = (body: unknown, headers: Record<string, string> = {}) =>
  ({
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers,
    rawPath: '/v1/chat/completions',
    requestContext: { http: { method: 'POST' } },
  }) as unknown as APIGatewayProxyEventV2;

const user = (content: unknown) => ({ role: 'user', content });

function refusal(body: unknown, headers: Record<string, string> = {}): DomainError {
  try {
    parseCompletionRequest(event(body, headers), LIMITS);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('parseCompletionRequest', () => {
  it('makes the last message the prompt and the earlier ones, as sent, its context (developer as system)', () => {
    // Act
    const parsed = parseCompletionRequest(
      event({
        model: 'local-llm',
        messages: [
          { role: 'developer', content: 'Be brief.' },
          user('One'),
          { role: 'assistant', content: [{ type: 'text', text: 'Uno' }] },
          user([
            { type: 'text', text: 'Tw' },
            { type: 'text', text: 'o' },
          ]),
        ],
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0.2,
      }),
      LIMITS,
    );

    // Assess
    expect(parsed).toEqual({
      model: 'local-llm',
      includeUsage: true,
      request: {
        prompt: 'Two',
        history: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'One' },
          { role: 'assistant', content: 'Uno' },
        ],
        stream: true,
        retryAttempt: 0,
        idempotencyKey: undefined,
      },
    });
  });

  it('reads the conversation from the field or the x-conversation-id header, and the retry count from the official client’s header', () => {
    const body = { model: 'local-llm', messages: [user('hi')] };
    const fromField = parseCompletionRequest(event({ ...body, conversation_id: 'c-1' }), LIMITS).request;
    const fromHeader = parseCompletionRequest(
      event(body, { 'x-conversation-id': 'c-2', 'x-stainless-retry-count': '2', 'idempotency-key': 'k1' }),
      LIMITS,
    ).request;
    expect(fromField.conversationId).toBe('c-1');
    expect(fromHeader).toMatchObject({ conversationId: 'c-2', retryAttempt: 2, idempotencyKey: 'k1' });
    expect(refusal({ ...body, conversation_id: 'c-1' }, { 'x-conversation-id': 'c-2' }).details.param).toBe(
      'conversation_id',
    );
  });

  it.each([
    ['malformed JSON', '{"model":', null],
    ['not an object', '[1]', null],
    ['no model', { messages: [user('x')] }, 'model'],
    ['no messages', { model: 'local-llm' }, 'messages'],
    ['empty messages', { model: 'local-llm', messages: [] }, 'messages'],
    ['a message that is not an object', { model: 'local-llm', messages: ['hi'] }, 'messages[0]'],
    ['a wrong role', { model: 'local-llm', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ['empty content', { model: 'local-llm', messages: [user(' \n')] }, 'messages[0].content'],
    ['null content', { model: 'local-llm', messages: [user(null)] }, 'messages[0].content'],
    [
      'an image part',
      { model: 'local-llm', messages: [user([{ type: 'image_url', image_url: { url: 'x' } }])] },
      'messages[0].content[0]',
    ],
    [
      'an assistant message last',
      { model: 'local-llm', messages: [user('a'), { role: 'assistant', content: 'b' }] },
      'messages[1].role',
    ],
    ['too long a prompt', { model: 'local-llm', messages: [user('x'.repeat(21))] }, 'messages[0].content'],
    ['stream not a boolean', { model: 'local-llm', messages: [user('x')], stream: 'yes' }, 'stream'],
    [
      'stream_options without stream',
      { model: 'local-llm', messages: [user('x')], stream_options: {} },
      'stream_options',
    ],
    ['n above 1', { model: 'local-llm', messages: [user('x')], n: 2 }, 'n'],
    ['tools', { model: 'local-llm', messages: [user('x')], tools: [{ type: 'function' }] }, 'tools'],
    [
      'a bad conversation_id',
      { model: 'local-llm', messages: [user('x')], conversation_id: 'a/b' },
      'conversation_id',
    ],
  ])('refuses %s with a 400 naming the field', (_name, body, param) => {
    const error = refusal(body);
    expect(error.code).toBe('invalid_request');
    expect(error.details.param ?? null).toBe(param);
  });

  it('refuses a model it does not serve with not_found on "model", once the body is well formed', () => {
    expect(refusal({ model: 'gpt-4o', messages: [user('x')] })).toMatchObject({
      code: 'not_found',
      details: { param: 'model' },
    });
    expect(refusal({ model: 'gpt-4o', messages: [] }).code).toBe('invalid_request');
  });
});
