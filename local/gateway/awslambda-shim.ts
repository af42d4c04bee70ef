/**
 * A local stand-in for the `awslambda` global that the Lambda Node.js runtime installs before it
 * loads a handler module (aws-lambda-nodejs-runtime-interface-client, src/utils/globals.ts).
 *
 * - `streamifyResponse(fn)` tags the handler with the runtime's symbol and returns it unchanged, so
 *   whoever invokes it (the local gateway) can tell a streaming handler from a buffered one.
 * - `HttpResponseStream.from(stream, prelude)` sets the integration content type and makes the
 *   first write emit `JSON.stringify(prelude)` and 8 NUL bytes before the body; a Function URL
 *   (here: local/gateway/response-stream.ts) turns that prelude into the status line, headers and cookies.
 *
 * middy reads `awslambda.streamifyResponse` when a handler module is evaluated: install this before
 * importing any handler (the stack does; vitest's setupFiles does for tests).
 */
import type { Writable } from 'node:stream';

/** The symbol the runtime puts on a handler wrapped by `streamifyResponse`. */
export const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
export const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
export const STREAM_RESPONSE = 'response';
/** Content type the runtime sets on the response stream when a prelude is used. */
export const METADATA_PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** Number of NUL bytes between the JSON prelude and the body. */
export const DELIMITER_LEN = 8;

const SHIM_MARK = Symbol.for('chat-serverless.local.awslambda-shim');

export interface StreamifyOptions {
  readonly highWaterMark?: number;
}

type AnyFunction = (...args: never[]) => unknown;

function streamifyResponse<T extends AnyFunction>(handler: T, options?: StreamifyOptions): T {
  Reflect.set(handler, HANDLER_STREAMING, STREAM_RESPONSE);
  if (typeof options?.highWaterMark === 'number') {
    Reflect.set(handler, HANDLER_HIGHWATERMARK, Math.trunc(options.highWaterMark));
  }
  return handler;
}

/** True when the handler was wrapped by `awslambda.streamifyResponse` (real runtime or this shim). */
export function isStreamingHandler(handler: unknown): boolean {
  return typeof handler === 'function' && Reflect.get(handler, HANDLER_STREAMING) === STREAM_RESPONSE;
}

type WriteCallback = (error?: Error | null) => void;

/** The runtime exposes a class with only this static method; an object with `from` is the same to callers. */
const HttpResponseStream = {
  /**
   * Same contract as the runtime's: returns the same stream, now wired so that the first write
   * (or `end()` when nothing was written) is preceded by the JSON prelude and 8 NUL bytes.
   */
  from<S extends Writable>(underlyingStream: S, prelude: Record<string, unknown>): S {
    const setContentType: unknown = Reflect.get(underlyingStream, 'setContentType');
    if (typeof setContentType === 'function') {
      setContentType.call(underlyingStream, METADATA_PRELUDE_CONTENT_TYPE);
    }
    const metadataPrelude = JSON.stringify(prelude);
    const originalWrite = underlyingStream.write.bind(underlyingStream);
    const originalEnd = underlyingStream.end.bind(underlyingStream);
    let preludeSent = false;
    const sendPrelude = (): void => {
      if (preludeSent) return;
      preludeSent = true;
      originalWrite(metadataPrelude);
      originalWrite(new Uint8Array(DELIMITER_LEN));
    };
    const write = (chunk: unknown, encoding?: BufferEncoding | WriteCallback, callback?: WriteCallback) => {
      sendPrelude();
      if (typeof encoding === 'function') return originalWrite(chunk, encoding);
      return originalWrite(chunk, encoding ?? 'utf8', callback);
    };
    // Writable#end(chunk) writes through an internal path, not `this.write`: route it through ours.
    const end = (chunk?: unknown, encoding?: BufferEncoding | (() => void), callback?: () => void) => {
      if (typeof chunk === 'function') {
        sendPrelude();
        return originalEnd(chunk);
      }
      if (chunk !== undefined && chunk !== null) {
        if (typeof encoding === 'function') {
          write(chunk);
          return originalEnd(encoding);
        }
        write(chunk, encoding);
        return originalEnd(callback);
      }
      sendPrelude();
      return originalEnd(typeof encoding === 'function' ? encoding : callback);
    };
    Object.assign(underlyingStream, { write, end });
    return underlyingStream;
  },
};

export interface AwsLambdaGlobal {
  streamifyResponse: typeof streamifyResponse;
  HttpResponseStream: typeof HttpResponseStream;
}

/** Installs `globalThis.awslambda` once; later calls return the installed object unchanged. */
export function installAwsLambdaShim(): AwsLambdaGlobal {
  const existing: unknown = Reflect.get(globalThis, 'awslambda');
  if (typeof existing === 'object' && existing !== null && Reflect.get(existing, SHIM_MARK) === true) {
    return existing as AwsLambdaGlobal;
  }
  const shim: AwsLambdaGlobal = {
    // Like the runtime, keep whatever else was on the global.
    ...(typeof existing === 'object' && existing !== null ? existing : {}),
    streamifyResponse,
    HttpResponseStream,
  };
  Object.defineProperty(shim, SHIM_MARK, { value: true });
  Reflect.set(globalThis, 'awslambda', shim);
  return shim;
}

/**
 * Splits a captured streaming response at the first 8 NUL bytes, as a Function URL does.
 * Returns `prelude: undefined` when no delimiter is present (a stream written without a prelude).
 */
export function splitPrelude(bytes: Uint8Array): { prelude: string | undefined; body: Buffer } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = buffer.indexOf(Buffer.alloc(DELIMITER_LEN));
  if (at < 0) return { prelude: undefined, body: buffer };
  return {
    prelude: buffer.subarray(0, at).toString('utf8'),
    body: buffer.subarray(at + DELIMITER_LEN),
  };
}
