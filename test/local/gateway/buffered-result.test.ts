import { describe, expect, it } from 'vitest';
import { handler as bufferedHandler } from './fixtures/buffered';
import { definition, useGateway } from './support';

const { start, logs } = useGateway();

describe('startGateway', () => {
  describe('buffered results', () => {
    it('maps statusCode, headers and cookies of a structured result', async () => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      const res = await fetch(`${gw.url}/echo`);

      expect(res.status).toBe(200);
      expect(res.headers.get('x-fixture')).toBe('buffered');
      expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    });

    it('infers 200 JSON for a plain string or object, and decodes a base64 body', async () => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      const text = await fetch(`${gw.url}/echo?shape=string`);
      const object = await fetch(`${gw.url}/echo?shape=object`);
      const binary = await fetch(`${gw.url}/echo?shape=binary`);

      expect(text.status).toBe(200);
      expect(text.headers.get('content-type')).toBe('application/json');
      expect(await text.text()).toBe('plain string');
      expect(await object.json()).toEqual({ hello: 'world' });
      expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255]);
    });

    it('answers 502 internal_error when the handler throws', async () => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      const res = await fetch(`${gw.url}/echo?shape=throw`);

      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({
        error: { code: 'internal_error', message: 'Internal Server Error' },
      });
      const entry = await logs.waitFor((e) => e.msg === 'invoke');
      expect(entry).toMatchObject({ route: 'Echo', status: 502, outcome: 'error' });
    });

    it("enforces the route's timeout", async () => {
      const gw = await start([
        { definition: definition('Echo', '/echo', false, 0.2), handler: bufferedHandler },
      ]);

      const res = await fetch(`${gw.url}/echo?shape=hang`);

      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('function_timeout');
      expect(await logs.waitFor((e) => e.msg === 'invoke')).toMatchObject({ outcome: 'timeout' });
    });
  });
});
