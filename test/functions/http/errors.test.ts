import { describe, expect, it, vi } from 'vitest';
import { OVERLOADED_MESSAGE } from '../../../contract/errors';
import { DomainError } from '../../../domain/errors';
import { mapError } from '../../../functions/http/errors';

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

describe('mapError', () => {
  it.each([
    ['invalid_request', 400],
    ['unauthorized', 401],
    ['not_found', 404],
    ['method_not_allowed', 405],
    ['conflict', 409],
    ['payload_too_large', 413],
    ['upstream_error', 502],
    ['overloaded', 503],
    ['upstream_timeout', 504],
  ] as const)('maps %s to %i with the one error shape', (code, status) => {
    const mapped = mapError(new DomainError(code, 'why'), log);
    expect(mapped.statusCode).toBe(status);
    expect(mapped.body.error.code).toBe(code);
    expect(typeof mapped.body.error.message).toBe('string');
  });

  it('answers overload with the exact busy message and a Retry-After header', () => {
    const mapped = mapError(new DomainError('overloaded', 'x', { retry_after_seconds: 20 }), log);
    expect(mapped.body.error).toEqual({
      code: 'overloaded',
      message: OVERLOADED_MESSAGE,
      retry_after_seconds: 20,
    });
    expect(mapped.headers['retry-after']).toBe('20');
  });

  it('hides internal errors and upstream details from the client but logs them', () => {
    const mapped = mapError(new TypeError('secret stack detail'), log);
    expect(mapped.statusCode).toBe(500);
    expect(JSON.stringify(mapped.body)).not.toContain('secret');
    expect(log.error).toHaveBeenCalled();
    const upstream = mapError(
      new DomainError('upstream_error', 'failed', { upstream_status: 500, cause: 'ECONNRESET' }),
      log,
    );
    expect(upstream.body.error).toEqual({ code: 'upstream_error', message: 'failed' });
  });
});
