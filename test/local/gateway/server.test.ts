import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
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

    it.each([
      ['a declared 10 MB body', { length: 10 * 1024 * 1024, chunked: false, expectContinue: false }],
      ['a chunked 10 MB body', { length: 10 * 1024 * 1024, chunked: true, expectContinue: false }],
      ['a declared 50 MB body', { length: 50 * 1024 * 1024, chunked: false, expectContinue: false }],
      [
        'a 10 MB body behind Expect: 100-continue',
        { length: 10 * 1024 * 1024, chunked: false, expectContinue: true },
      ],
    ])('answers %s with a JSON 413, never a reset, five times over', async (_name, upload) => {
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const answer = await uploadTo(`${gw.url}/echo`, upload);
        // The whole upload went out: the refused body was drained, not cut off under the client.
        expect(answer).toMatchObject({ status: 413, uploadError: undefined });
        expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload_too_large' } });
      }
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

/**
 * Uploads `length` bytes in 64 KB writes, as a client streaming a file does. Resolves once the answer has
 * been read and the upload has ended, with the upload's error if the server cut it off.
 */
function uploadTo(
  url: string,
  upload: { length: number; chunked: boolean; expectContinue: boolean },
): Promise<{ status: number; body: string; uploadError: string | undefined }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!upload.chunked) headers['content-length'] = String(upload.length);
    if (upload.expectContinue) headers.expect = '100-continue';
    let answer: { status: number; body: string } | undefined;
    let uploadEnded = false;
    let uploadError: string | undefined;
    const settle = () => {
      if (!answer || !uploadEnded) return;
      agent.destroy();
      resolve({ ...answer, uploadError });
    };
    // Keep-alive, as browsers, fetch and curl are: a client that asks to close may be closed on.
    const agent = new Agent({ keepAlive: true });
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        answer = { status: res.statusCode ?? 0, body };
        settle();
      });
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      uploadError = error.code ?? error.message;
      uploadEnded = true;
      if (!answer) reject(error);
      settle();
    });
    req.on('finish', () => {
      uploadEnded = true;
      settle();
    });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const pump = () => {
      while (sent < upload.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, upload.length - sent));
        sent += part.length;
        if (!req.write(part)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    if (!upload.expectContinue) pump();
    else {
      req.on('continue', pump);
      // Refused before sending: nothing more to write.
      req.on('response', () => req.end());
    }
  });
}
