import { describe, expect, it, vi } from 'vitest';
import { OVERLOADED_MESSAGE } from '../../../../contract/errors';
import { DomainError } from '../../../../domain/errors';
import { mapOpenAiError } from '../../../../functions/http/openai/errors';

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

describe('mapOpenAiError', () => {
  it.each([
    ['invalid_request', 400, 'invalid_request_error'],
    ['unauthorized', 401, 'authentication_error'],
    ['forbidden', 403, 'permission_error'],
    ['not_found', 404, 'not_found_error'],
    ['in_progress', 409, 'invalid_request_error'],
    ['payload_too_large', 413, 'invalid_request_error'],
    ['rate_limited', 429, 'rate_limit_error'],
    ['upstream_error', 502, 'server_error'],
    ['overloaded', 503, 'server_error'],
    ['upstream_timeout', 504, 'server_error'],
  ] as const)('maps %s to %i, OpenAI type %s, with the same status as POST /chat', (code, status, type) => {
    const mapped = mapOpenAiError(new DomainError(code, 'why'), log);
    expect(mapped.statusCode).toBe(status);
    expect(mapped.body).toEqual({ error: { message: expect.any(String), type, param: null, code } });
  });

  it('keeps the overload message and Retry-After, which the official client waits out', () => {
    const mapped = mapOpenAiError(new DomainError('overloaded', 'x', { retry_after_seconds: 12.4 }), log);
    expect(mapped.headers).toEqual({ 'retry-after': '13' });
    expect(mapped.body.error.message).toBe(OVERLOADED_MESSAGE);
  });

  it('turns the client’s automatic retry off past a minute, and for a key used with another request', () => {
    const spentWindow = mapOpenAiError(
      new DomainError('rate_limited', 'x', { retry_after_seconds: 3600 }),
      log,
    );
    const shortWait = mapOpenAiError(new DomainError('rate_limited', 'x', { retry_after_seconds: 5 }), log);
    const conflict = mapOpenAiError(new DomainError('conflict', 'x'), log);
    expect(spentWindow.headers['x-should-retry']).toBe('false');
    expect(shortWait.headers['x-should-retry']).toBeUndefined();
    expect(conflict.headers['x-should-retry']).toBe('false');
  });

  it('names the model field and OpenAI’s model_not_found code for a model not served', () => {
    const mapped = mapOpenAiError(new DomainError('not_found', 'no such model', { param: 'model' }), log);
    expect(mapped.body.error).toMatchObject({
      param: 'model',
      code: 'model_not_found',
      type: 'not_found_error',
    });
  });

  it('answers an unexpected failure as a generic 500 server_error, logging only its name', () => {
    const mapped = mapOpenAiError(new Error('secret detail'), log);
    expect(mapped.statusCode).toBe(500);
    expect(mapped.body.error).toMatchObject({ type: 'server_error', code: 'internal_error' });
    expect(JSON.stringify(mapped.body)).not.toContain('secret detail');
  });
});
