import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_REQUEST_BYTES, startGateway } from '../../../local/gateway/server';
import { handler as bufferedHandler } from './fixtures/buffered';
import { createStreamingFixture } from './fixtures/streaming';
import { definition, useGateway } from './support';

const { start } = useGateway();

describe('startGateway', () => {
  describe('routing', () => {
    it('answers 404 JSON for a path no route claims', async () => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      const res = await fetch(`${gw.url}/nope`, { method: 'POST', body: 'x' });

      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('not_found');
      expect(body.error.message).toContain('/nope');
    });

    it('leaves method checks to the handler, as a Function URL does', async () => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      const res = await fetch(`${gw.url}/echo`, { method: 'DELETE' });

      const { event } = (await res.json()) as { event: LambdaFunctionURLEvent };
      expect(event.requestContext.http.method).toBe('DELETE');
    });

    it('rejects a body over 6 MB with 413 JSON without invoking the handler', async () => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      const res = await fetch(`${gw.url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(MAX_REQUEST_BYTES + 1),
      });

      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    });

    it('serves static files, index.html at /, and extra routes', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gateway-static-'));
      try {
        await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
        const gw = await start(
          [{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }],
          {
            staticDir: dir,
            extraRoutes: [
              {
                method: 'GET',
                path: '/config.json',
                handle: (_req, res) => {
                  res.writeHead(200, { 'content-type': 'application/json' }).end('{"region":"us-east-1"}');
                },
              },
            ],
          },
        );

        const index = await fetch(`${gw.url}/`);
        const config = await fetch(`${gw.url}/config.json`);
        const traversal = await fetch(`${gw.url}/..%2Fpasswd`);

        expect(index.headers.get('content-type')).toContain('text/html');
        expect(await index.text()).toContain('<title>t</title>');
        expect(await config.json()).toEqual({ region: 'us-east-1' });
        expect(traversal.status).toBe(404);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('refuses a handler whose streaming mode contradicts its definition', async () => {
      const fixture = createStreamingFixture(['x']);

      await expect(
        startGateway({
          port: 0,
          routes: [{ definition: definition('Chat', '/chat', false), handler: fixture.handler }],
        }),
      ).rejects.toThrow(/streaming/);
    });
  });
});
