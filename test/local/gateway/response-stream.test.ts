import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { installAwsLambdaShim } from '../../../local/gateway/awslambda-shim';
import { fetchSse } from '../../support/http';
import { createStreamingFixture } from './fixtures/streaming';
import { definition, readText, useGateway } from './support';

const { start, logs } = useGateway();

describe('startGateway', () => {
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
