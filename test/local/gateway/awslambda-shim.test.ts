import { Writable } from 'node:stream';
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { describe, expect, it } from 'vitest';
import {
  HANDLER_STREAMING,
  installAwsLambdaShim,
  isStreamingHandler,
  METADATA_PRELUDE_CONTENT_TYPE,
  splitPrelude,
} from '../../../local/gateway/awslambda-shim';

const context = { getRemainingTimeInMillis: () => 1000 };

/** middy's types model `(event, context)`; the runtime calls a streaming handler with a stream too. */
type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<unknown>;

function asStreaming(handler: unknown): StreamingHandler {
  if (!isStreamingHandler(handler)) throw new Error('not a streaming handler');
  return handler as StreamingHandler;
}

/** A response stream that captures every byte, like middy's own streamify tests. */
function captureStream() {
  const chunks: Buffer[] = [];
  const contentTypes: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
    { setContentType: (type: string) => contentTypes.push(type) },
  );
  return {
    stream,
    contentTypes,
    bytes: () => Buffer.concat(chunks),
    parts: () => splitPrelude(Buffer.concat(chunks)),
  };
}

describe('installAwsLambdaShim', () => {
  it('is idempotent and is what setupFiles installed', () => {
    const first = installAwsLambdaShim();
    const second = installAwsLambdaShim();

    expect(second).toBe(first);
    expect(Reflect.get(globalThis, 'awslambda')).toBe(first);
  });

  it('marks a handler as streaming with the runtime symbol and returns it unchanged', () => {
    const { streamifyResponse } = installAwsLambdaShim();
    const fn = async () => {};

    const wrapped = streamifyResponse(fn);

    expect(wrapped).toBe(fn);
    expect(Reflect.get(wrapped, HANDLER_STREAMING)).toBe('response');
    expect(isStreamingHandler(wrapped)).toBe(true);
    expect(isStreamingHandler(async () => {})).toBe(false);
  });
});

describe('HttpResponseStream.from', () => {
  it('writes the JSON prelude and 8 NUL bytes before a middy body', async () => {
    // Prepare
    const input = 'x'.repeat(1024 * 1024);
    const metadata = { statusCode: 200, headers: { 'Content-Type': 'text/plain' } };
    const handler = middy({ executionMode: executionModeStreamifyResponse }).handler(async () => ({
      ...metadata,
      body: input,
    }));
    const capture = captureStream();

    // Act
    await asStreaming(handler)({}, capture.stream, context);

    // Assess
    expect(capture.contentTypes).toEqual([METADATA_PRELUDE_CONTENT_TYPE]);
    expect(capture.parts().prelude).toBe(JSON.stringify(metadata));
    expect(capture.parts().body.toString()).toBe(input);
  });

  it('writes the prelude for an empty body, so the status still applies', async () => {
    const metadata = { statusCode: 301, headers: { Location: 'https://example.com' } };
    const handler = middy({ executionMode: executionModeStreamifyResponse }).handler(async () => ({
      ...metadata,
      body: '',
    }));
    const capture = captureStream();

    await asStreaming(handler)({}, capture.stream, context);

    expect(capture.parts().prelude).toBe(JSON.stringify(metadata));
    expect(capture.parts().body.length).toBe(0);
  });

  it('leaves a body without statusCode unprefixed', async () => {
    const handler = middy({ executionMode: executionModeStreamifyResponse }).handler(
      async () => 'just a body',
    );
    const capture = captureStream();

    await asStreaming(handler)({}, capture.stream, context);

    expect(capture.parts().prelude).toBeUndefined();
    expect(capture.bytes().toString()).toBe('just a body');
  });

  it('emits the prelude once, also when the body is passed to end()', () => {
    const { HttpResponseStream } = installAwsLambdaShim();
    const capture = captureStream();

    const stream = HttpResponseStream.from(capture.stream, { statusCode: 202 });
    stream.write('a');
    stream.end('b');

    expect(capture.parts().prelude).toBe('{"statusCode":202}');
    expect(capture.parts().body.toString()).toBe('ab');
  });
});
