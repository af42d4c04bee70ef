import { describe, expect, it } from 'vitest';
import { parseFleetServers } from '../../../adapters/fleet/server-registry';

describe('parseFleetServers', () => {
  it('reads id=baseUrl and id=baseUrl|capacity entries, with the default capacity where none is given', () => {
    // Prepare
    const value =
      ' gpu-1=http://10.0.0.10:8000|16 , gpu-2=https://gpu-2.example.com/ ,gpu_3.b=http://[::1]:9000|1,';

    // Act
    const servers = parseFleetServers(value, 10);

    // Assess
    expect(servers).toEqual([
      { id: 'gpu-1', baseUrl: 'http://10.0.0.10:8000', capacity: 16 },
      { id: 'gpu-2', baseUrl: 'https://gpu-2.example.com', capacity: 10 },
      { id: 'gpu_3.b', baseUrl: 'http://[::1]:9000', capacity: 1 },
    ]);
  });

  it('keeps a base path (a server behind a path-routing proxy)', () => {
    // Act
    const servers = parseFleetServers('a=http://proxy.internal/llm/a/|4', 10);

    // Assess
    expect(servers).toEqual([{ id: 'a', baseUrl: 'http://proxy.internal/llm/a', capacity: 4 }]);
  });

  it.each([
    ['an empty list', ' , ', /empty/],
    ['an entry without id', '=http://a:1', /"=http:\/\/a:1": no id/],
    ['an entry without "="', 'http://a:1', /no id/],
    ['a bad id', 'gpu 1=http://a:1', /the id may hold only/],
    ['a URL that does not parse', 'a=not a url', /the URL does not parse/],
    ['a non-http URL', 'a=ftp://host:21', /must be http\(s\)/],
    ['a URL with a query', 'a=http://host:1/?x=1', /no query, fragment or credentials/],
    ['a URL with credentials', 'a=http://user:pw@host:1', /no query, fragment or credentials/],
    ['a zero capacity', 'a=http://host:1|0', /capacity must be an integer >= 1/],
    ['a fractional capacity', 'a=http://host:1|2.5', /capacity must be an integer >= 1/],
    ['an empty capacity', 'a=http://host:1|', /capacity must be an integer >= 1/],
    ['two "|"', 'a=http://host:1|2|3', /more than one "\|"/],
    ['a duplicate id', 'a=http://host:1,a=http://host:2', /id "a" is listed twice/],
    ['a duplicate URL', 'a=http://host:1,b=http://host:1/', /URL http:\/\/host:1 is listed twice/],
  ])('rejects %s with a clear error', (_case, value, message) => {
    // Act
    const act = () => parseFleetServers(value, 10);

    // Assess
    expect(act).toThrow(message);
  });

  it('rejects a default capacity that is not a positive integer', () => {
    // Act
    const act = () => parseFleetServers('a=http://host:1', 2.5);

    // Assess
    expect(act).toThrow(/default server capacity must be an integer >= 1/);
  });
});
