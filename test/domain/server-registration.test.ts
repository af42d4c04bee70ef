import { describe, expect, it } from 'vitest';
import {
  MAX_SERVER_CAPACITY,
  MAX_SERVER_ID_LENGTH,
  MAX_SERVER_URL_LENGTH,
  parseServerRegistration,
} from '../../domain/server-registration';

describe('parseServerRegistration', () => {
  it('trims, drops trailing slashes from the URL, and reads the capacity from text or a number', () => {
    expect(parseServerRegistration(' gpu-1 ', ' http://10.0.0.1:8000/llm// ', ' 16 ')).toEqual({
      id: 'gpu-1',
      baseUrl: 'http://10.0.0.1:8000/llm',
      capacity: 16,
    });
    expect(parseServerRegistration('a', 'https://[::1]:9000', 1).capacity).toBe(1);
  });

  it('accepts the longest id and URL and the largest capacity', () => {
    const id = 'i'.repeat(MAX_SERVER_ID_LENGTH);
    const baseUrl = `http://${'h'.repeat(MAX_SERVER_URL_LENGTH - 'http://'.length)}`;

    expect(parseServerRegistration(id, baseUrl, MAX_SERVER_CAPACITY)).toEqual({
      id,
      baseUrl,
      capacity: MAX_SERVER_CAPACITY,
    });
  });

  it.each([
    ['an empty id', ' ', 'http://h:1', '1', /^no id$/],
    ['a long id', 'i'.repeat(MAX_SERVER_ID_LENGTH + 1), 'http://h:1', '1', /id is longer than 128/],
    ['a bad id', 'a/b', 'http://h:1', '1', /the id may hold only/],
    ['a long URL', 'a', `http://${'h'.repeat(MAX_SERVER_URL_LENGTH)}`, '1', /URL is longer than 512/],
    ['a bad URL', 'a', 'h:1:x', '1', /does not parse|must be http/],
    ['a URL with a fragment', 'a', 'http://h:1/#x', '1', /no query, fragment or credentials/],
    ['a negative capacity', 'a', 'http://h:1', '-1', /capacity must be an integer >= 1 and <= 10000/],
    ['a capacity in exponent form', 'a', 'http://h:1', '1e3', /capacity must be an integer/],
    ['a capacity above the maximum', 'a', 'http://h:1', String(MAX_SERVER_CAPACITY + 1), /<= 10000/],
  ])('rejects %s', (_case, id, url, capacity, message) => {
    expect(() => parseServerRegistration(id, url, capacity)).toThrow(message);
  });
});
