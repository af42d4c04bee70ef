import { describe, expect, it } from 'vitest';
import { ulid, ulidTime } from '../../domain/ids';

describe('ulid', () => {
  it('encodes its time so that later ids sort after earlier ones', () => {
    // Prepare
    const times = [0, 1, 1_700_000_000_000, 1_700_000_000_001, 2 ** 47];
    // Act
    const ids = times.map((t) => ulid(t));
    // Assess
    expect([...ids].sort()).toEqual(ids);
    expect(ids.map((id) => ulidTime(id))).toEqual(times);
  });

  it('is unique within one millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => ulid(1_700_000_000_000)));
    expect(ids.size).toBe(1000);
  });

  it('rejects times it cannot encode and says so for non-ulids', () => {
    expect(() => ulid(-1)).toThrow(RangeError);
    expect(() => ulid(1.5)).toThrow(RangeError);
    expect(ulidTime('not-a-ulid')).toBeUndefined();
  });
});
