import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteDefinition } from '../../../lib/resources';
import { installAwsLambdaShim } from '../../../local/gateway/awslambda-shim';
import {
  type Gateway,
  type GatewayLogEntry,
  type GatewayRoute,
  MAX_REQUEST_BYTES,
  startGateway,
} from '../../../local/gateway/server';
import { fetchSse } from '../../support/http';
import { handler as bufferedHandler } from './fixtures/buffered';
import { createStreamingFixture } from './fixtures/streaming';

function definition(id: string, path: string, streaming: boolean, timeoutSeconds = 5): RouteDefinition {
  return {
    id,
    method: streaming ? 'POST' : 'GET',
    path,
    entry: `test/local/gateway/fixtures/${streaming ? 'streaming' : 'buffered'}.ts`,
    streaming,
    timeoutSeconds,
    memoryMb: 128,
    tables: {},
    queues: [],
  };
}

/** Collects log entries and lets a test await the first one matching a predicate. */
function logCapture() {
  const entries: GatewayLogEntry[] = [];
  const waiters: { match: (e: GatewayLogEntry) => boolean; resolve: (e: GatewayLogEntry) => void }[] = [];
  return {
    entries,
    log(entry: GatewayLogEntry): void {
      entries.push(entry);
      for (const waiter of waiters.filter((w) => w.match(entry))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    },
    waitFor(match: (e: GatewayLogEntry) => boolean): Promise<GatewayLogEntry> {
      const found = entries.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

let gateway: Gateway | undefined;
let logs = logCapture();

async function start(routes: GatewayRoute[], extra: Partial<Parameters<typeof startGateway>[0]> = {}) {
  logs = logCapture();
  gateway = await startGateway({ host: '127.0.0.1', port: 0, routes, log: logs.log, ...extra });
  return gateway;
}

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** node:http request, so a test can send repeated header lines (fetch folds them into one). */
function rawRequest(
  url: string,
  options: { method: string; headers: Record<string, string | string[]>; body?: Buffer | string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    for (const [name, value] of Object.entries(options.headers)) req.setHeader(name, value);
    req.on('error', reject);
    req.end(options.body);
  });
}

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, expected: string): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (text.length < expected.length) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe('startGateway', () => {
  describe('payload format 2.0 event', () => {
    it('passes method, paths, query, folded headers, cookies, text body and a Lambda-like context', async () => {
      // Prepare
      const gw = await start([
        { definition: definition('Echo', '/echo', false, 7), handler: bufferedHandler },
      ]);

      // Act
      const res = await rawRequest(`${gw.url}/echo?a=1&b=two%20words&a=3`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-dup': ['one', 'two'],
          'X-Mixed-Case': 'yes',
          cookie: 'c1=v1; c2=v2',
          'user-agent': 'gateway-test',
        },
        body: '{"hello":"world"}',
      });

      // Assess
      expect(res.status).toBe(200);
      const { event, context } = JSON.parse(res.body.toString()) as {
        event: LambdaFunctionURLEvent;
        context: Record<string, unknown>;
      };
      expect(event).toMatchObject({
        version: '2.0',
        routeKey: '$default',
        rawPath: '/echo',
        rawQueryString: 'a=1&b=two%20words&a=3',
        queryStringParameters: { a: '1,3', b: 'two words' },
        cookies: ['c1=v1', 'c2=v2'],
        body: '{"hello":"world"}',
        isBase64Encoded: false,
        requestContext: {
          accountId: 'anonymous',
          routeKey: '$default',
          stage: '$default',
          http: {
            method: 'POST',
            path: '/echo',
            protocol: 'HTTP/1.1',
            sourceIp: '127.0.0.1',
            userAgent: 'gateway-test',
          },
        },
      });
      expect(event.headers['x-dup']).toBe('one,two');
      expect(event.headers['x-mixed-case']).toBe('yes');
      expect(event.headers.cookie).toBeUndefined();
      expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(event.requestContext.domainName).toBe(`127.0.0.1:${gw.port}`);
      expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
      expect(typeof event.requestContext.timeEpoch).toBe('number');
      expect(context).toMatchObject({
        functionName: 'Echo',
        awsRequestId: event.requestContext.requestId,
        memoryLimitInMB: '128',
      });
      expect(context.remainingMs).toBeGreaterThan(0);
      expect(context.remainingMs).toBeLessThanOrEqual(7000);
      expect(res.headers['x-amzn-requestid']).toBe(event.requestContext.requestId);
    });

    it('base64-encodes a binary body and omits absent optional fields', async () => {
      // Prepare
      const gw = await start([{ definition: definition('Echo', '/echo', false), handler: bufferedHandler }]);

      // Act
      const res = await fetch(`${gw.url}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array([0, 1, 2, 255]),
      });

      // Assess
      const { event } = (await res.json()) as { event: LambdaFunctionURLEvent };
      expect(event.isBase64Encoded).toBe(true);
      expect(event.body).toBe('AAEC/w==');
      expect(event.rawQueryString).toBe('');
      expect(event.queryStringParameters).toBeUndefined();
      expect(event.cookies).toBeUndefined();
    });
  });

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

  describe('streaming', () => {
    it('applies the prelude and delivers each chunk before the handler writes the next', async () => {
      // Prepare
      const chunks = ['data: one\n\n', 'data: two\n\n', 'data: three\n\n'];
      const fixture = createStreamingFixture(chunks);
      const gw = await start([{ definition: definition('Chat', '/chat', true), handler: fixture.handler }]);
      fixture.release(0);

      // Act
      const res = await fetch(`${gw.url}/chat`, { method: 'POST', body: '{}' });
      const reader = res.body?.getReader();
      if (!reader) throw new Error('no body');

      // Assess: the prelude became the status line, headers and cookies.
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('x-fixture')).toBe('streaming');
      expect(res.headers.getSetCookie()).toEqual(['fixture=1; Path=/']);
      // Each chunk reaches the client while the next is still held back by the test.
      for (const [index, chunk] of chunks.entries()) {
        expect(await readText(reader, chunk)).toBe(chunk);
        expect(fixture.writtenCount).toBe(index + 1);
        fixture.release(index + 1);
      }
      expect((await reader.read()).done).toBe(true);
      await fixture.completed;
      expect(await logs.waitFor((e) => e.msg === 'invoke')).toMatchObject({
        route: 'Chat',
        status: 201,
        outcome: 'ok',
        bytes: chunks.join('').length,
      });
    });

    it('lets an SSE client see every event before the next is written (readSse helper)', async () => {
      // Prepare
      const chunks = ['event: a\ndata: 1\n\n', ': keep-alive\n\ndata: 2\n\n', 'data: [DONE]\n\n'];
      const fixture = createStreamingFixture(chunks);
      const gw = await start([{ definition: definition('Chat', '/chat', true), handler: fixture.handler }]);
      fixture.release(0);
      const writtenWhenSeen: number[] = [];

      // Act: each event received releases the next chunk; buffering anywhere would deadlock here.
      const read = await fetchSse(
        `${gw.url}/chat`,
        { method: 'POST' },
        {
          onEvent: (_event, index) => {
            writtenWhenSeen.push(fixture.writtenCount);
            fixture.release(index + 1);
            return false;
          },
        },
      );

      // Assess
      expect(read.status).toBe(201);
      expect(read.events.map((e) => [e.event, e.data])).toEqual([
        ['a', '1'],
        [undefined, '2'],
        [undefined, '[DONE]'],
      ]);
      expect(read.comments.map((c) => c.comment.trim())).toEqual(['keep-alive']);
      expect(writtenWhenSeen).toEqual([1, 2, 3]);
      expect(read.events.every((e) => e.receivedAt >= read.headersAt)).toBe(true);
    });

    it('keeps running the handler to its end after the client disconnects', async () => {
      // Prepare
      const chunks = ['data: first\n\n', 'data: second\n\n', 'data: third\n\n'];
      const fixture = createStreamingFixture(chunks);
      const gw = await start([{ definition: definition('Chat', '/chat', true), handler: fixture.handler }]);
      fixture.release(0);
      const abort = new AbortController();
      const res = await fetch(`${gw.url}/chat`, { method: 'POST', signal: abort.signal });
      const reader = res.body?.getReader();
      if (!reader) throw new Error('no body');
      expect(await readText(reader, chunks[0] ?? '')).toBe(chunks[0]);

      // Act: the client goes away mid-stream; only then may the handler write the rest.
      abort.abort();
      await logs.waitFor((e) => e.msg === 'client_gone');
      fixture.releaseAll();

      // Assess: the invocation ended normally, and middy piped the whole body (requestEnd ran).
      const entry = await logs.waitFor((e) => e.msg === 'invoke');
      expect(entry).toMatchObject({ route: 'Chat', outcome: 'ok', clientGone: true });
      expect(entry.discardedBytes).toBe((chunks[1] ?? '').length + (chunks[2] ?? '').length);
      await fixture.completed;
      expect(fixture.writtenCount).toBe(chunks.length);
    });

    it('streams a raw streamifyResponse handler without prelude as 200 with its content type', async () => {
      const { streamifyResponse } = installAwsLambdaShim();
      const handler = streamifyResponse(
        async (_event: unknown, responseStream: Writable & { setContentType(type: string): void }) => {
          responseStream.setContentType('text/plain');
          responseStream.write('raw ');
          responseStream.end('body');
        },
      );
      const gw = await start([{ definition: definition('Chat', '/chat', true), handler }]);

      const res = await fetch(`${gw.url}/chat`, { method: 'POST' });

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(await res.text()).toBe('raw body');
    });

    it('answers 502 JSON when the handler throws before writing', async () => {
      const fixture = createStreamingFixture(['x'], { throwBeforeWriting: true });
      const gw = await start([{ definition: definition('Chat', '/chat', true), handler: fixture.handler }]);

      const res = await fetch(`${gw.url}/chat`, { method: 'POST' });

      expect(res.status).toBe(502);
      expect(await res.json()).toEqual({
        error: { code: 'internal_error', message: 'Internal Server Error' },
      });
    });

    it('ends the response when the handler fails after writing', async () => {
      const fixture = createStreamingFixture(['data: kept\n\n', 'data: never\n\n'], { failAt: 1 });
      const gw = await start([{ definition: definition('Chat', '/chat', true), handler: fixture.handler }]);
      fixture.release(0);

      const res = await fetch(`${gw.url}/chat`, { method: 'POST' });
      const reader = res.body?.getReader();
      if (!reader) throw new Error('no body');
      expect(await readText(reader, 'data: kept\n\n')).toBe('data: kept\n\n');
      fixture.release(1);

      expect(res.status).toBe(201);
      expect((await reader.read()).done).toBe(true);
      expect(await logs.waitFor((e) => e.msg === 'invoke')).toMatchObject({ status: 201, outcome: 'error' });
    });

    it("ends a stream that outlives the route's timeout", async () => {
      const fixture = createStreamingFixture(['data: early\n\n', 'data: late\n\n']);
      const gw = await start([
        { definition: definition('Chat', '/chat', true, 0.3), handler: fixture.handler },
      ]);
      fixture.release(0);

      const res = await fetch(`${gw.url}/chat`, { method: 'POST' });

      expect(await res.text()).toBe('data: early\n\n');
      expect(await logs.waitFor((e) => e.msg === 'invoke')).toMatchObject({
        outcome: 'timeout',
        status: 201,
      });
      fixture.releaseAll();
    });
  });
});
