import { describe, expect, it } from 'vitest';
import { fallbackSeconds, parseRetryAfter, retryDelaySeconds } from '../../../web/src/backoff';

describe('retryDelaySeconds', () => {
  it("takes the server's Retry-After first, then the body's retry_after_seconds", () => {
    expect(retryDelaySeconds('7', 30, 'free', 3)).toBe(7);
    expect(retryDelaySeconds(null, 12.2, 'free', 3)).toBe(13);
  });

  it('falls back to the tier policy when the server gave no delay', () => {
    expect(retryDelaySeconds(null, undefined, 'premium', 5, 0.99)).toBe(10);
    expect([0, 1, 2].map((attempt) => retryDelaySeconds(null, undefined, 'free', attempt, 0))).toEqual([
      10, 20, 40,
    ]);
  });
});

describe('fallbackSeconds', () => {
  it('adds at most 20 % jitter to the free backoff and caps it', () => {
    expect(fallbackSeconds('free', 1, 0.999)).toBe(24);
    expect(fallbackSeconds('free', 10, 0.999)).toBe(320);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('15', now)).toBe(15);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
