import { describe, expect, it } from 'vitest';
import { defaultBackoffPolicy, retryAfterSeconds } from '../../contract/backoff';

describe('retryAfterSeconds', () => {
  it('is 10 s every time for premium', () => {
    expect([0, 1, 5].map((a) => retryAfterSeconds('premium', a, 0.9, defaultBackoffPolicy))).toEqual([
      10, 10, 10,
    ]);
  });

  it('doubles per attempt for free, with up to 20 % jitter, capped', () => {
    expect([0, 1, 2, 3].map((a) => retryAfterSeconds('free', a, 0, defaultBackoffPolicy))).toEqual([
      10, 20, 40, 80,
    ]);
    expect(retryAfterSeconds('free', 1, 0.999, defaultBackoffPolicy)).toBe(24);
    expect(retryAfterSeconds('free', 30, 0.5, defaultBackoffPolicy)).toBe(320);
    expect(retryAfterSeconds('free', -3, 0, defaultBackoffPolicy)).toBe(10);
  });
});
