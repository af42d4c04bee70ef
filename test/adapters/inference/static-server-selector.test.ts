import { describe, expect, it } from 'vitest';
import { parseServerList, RandomServerSelector } from '../../../adapters/inference/static-server-selector';
import { DomainError } from '../../../domain/errors';

describe('parseServerList', () => {
  it('parses id=url pairs and trims trailing slashes', () => {
    expect(parseServerList('gpu-1=http://127.0.0.1:8001/, gpu-2=https://h:9')).toEqual([
      { id: 'gpu-1', baseUrl: 'http://127.0.0.1:8001' },
      { id: 'gpu-2', baseUrl: 'https://h:9' },
    ]);
  });

  it.each(['', 'http://no-id:1', '=http://x:1', 'gpu=ftp://x'])('rejects %j', (value) => {
    expect(() => parseServerList(value)).toThrow();
  });
});

describe('RandomServerSelector', () => {
  it('never returns an excluded server and is overloaded when all are excluded', async () => {
    const selector = new RandomServerSelector(parseServerList('a=http://a:1,b=http://b:1'), () => 0);
    expect((await selector.pick(new Set(['a']))).id).toBe('b');
    await expect(selector.pick(new Set(['a', 'b']))).rejects.toBeInstanceOf(DomainError);
  });
});
