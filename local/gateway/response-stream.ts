/**
 * RESPONSE_STREAM invoke mode: the writable `responseStream` a streaming handler gets, whose JSON
 * prelude (ended by 8 NUL bytes) becomes the status line and headers.
 */
import { Writable } from 'node:stream';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { DELIMITER_LEN, METADATA_PRELUDE_CONTENT_TYPE } from './awslambda-shim';
import { type Invocation, isInvocable, isThenable, type Outcome } from './invocation';
import { collectHeaders } from './result-headers';

const DEFAULT_STREAM_CONTENT_TYPE = 'application/octet-stream';
const DELIMITER = Buffer.alloc(DELIMITER_LEN);

type WriteCallback = (error?: Error | null) => void;

/**
 * The `responseStream` a streaming handler writes to. Like the runtime's, it has `setContentType`
 * (which `HttpResponseStream.from` uses), stringifies non-binary chunks, and never learns that the
 * client went away.
 */
class LambdaResponseStream extends Writable {
  #contentType = DEFAULT_STREAM_CONTENT_TYPE;
  #written = false;
  #pending: Buffer = Buffer.alloc(0);

  constructor(private readonly invocation: Invocation) {
    super();
  }

  setContentType(contentType: string): void {
    if (this.#written) throw new Error('Cannot set content-type, too late.');
    this.#contentType = contentType;
  }

  override write(
    chunk: unknown,
    encoding?: BufferEncoding | WriteCallback,
    callback?: WriteCallback,
  ): boolean {
    this.#written = true;
    const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
    if (typeof encoding === 'function') return super.write(data, encoding);
    return super.write(data, encoding ?? 'utf8', callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    // Past the prelude a chunk goes straight to the socket, with no promise or microtask per chunk.
    if (this.invocation.headWritten || !this.invocation.accepting) {
      const draining = this.invocation.send(chunk);
      if (draining) draining.then(() => callback(), callback);
      else callback();
      return;
    }
    this.#accept(chunk).then(() => callback(), callback);
  }

  override _final(callback: WriteCallback): void {
    try {
      if (!this.invocation.headWritten) {
        if (this.#contentType === METADATA_PRELUDE_CONTENT_TYPE && this.#pending.length > 0) {
          throw new Error('Response stream ended inside its prelude (no 8-NUL delimiter)');
        }
        this.invocation.writeHead(200, { 'content-type': this.#contentType });
      }
      callback();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async #accept(chunk: Buffer): Promise<void> {
    if (this.invocation.headWritten || !this.invocation.accepting) {
      await this.invocation.send(chunk);
      return;
    }
    if (this.#contentType !== METADATA_PRELUDE_CONTENT_TYPE) {
      this.invocation.writeHead(200, { 'content-type': this.#contentType });
      await this.invocation.send(chunk);
      return;
    }
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const at = this.#pending.indexOf(DELIMITER);
    if (at < 0) return;
    const preludeText = this.#pending.subarray(0, at).toString('utf8');
    const rest = this.#pending.subarray(at + DELIMITER_LEN);
    this.#pending = Buffer.alloc(0);
    const prelude: unknown = JSON.parse(preludeText);
    if (typeof prelude !== 'object' || prelude === null)
      throw new Error('Response prelude is not a JSON object');
    const record = prelude as Record<string, unknown>;
    const headers = collectHeaders(record);
    if (headers['content-type'] === undefined) headers['content-type'] = DEFAULT_STREAM_CONTENT_TYPE;
    const statusCode = typeof record.statusCode === 'number' ? record.statusCode : 200;
    this.invocation.writeHead(statusCode, headers);
    await this.invocation.send(rest);
  }
}

export async function runStreaming(
  handler: unknown,
  event: LambdaFunctionURLEvent,
  context: Context,
  invocation: Invocation,
): Promise<Outcome> {
  if (!isInvocable(handler)) return { kind: 'error', error: new Error('handler is not a function') };
  const stream = new LambdaResponseStream(invocation);
  const finished = new Promise<void>((resolveFinish, rejectFinish) => {
    stream.once('finish', () => resolveFinish());
    stream.once('error', rejectFinish);
    stream.once('close', () => {
      if (!stream.writableFinished) rejectFinish(new Error('Response stream destroyed before it ended'));
    });
  });
  finished.catch(() => {
    // Reported through the handler's outcome below.
  });
  try {
    const result = handler(event, stream, context);
    if (!isThenable(result)) throw new Error('Streaming does not support non-async handlers.');
    await result;
    await finished;
    return { kind: 'ok' };
  } catch (error) {
    return { kind: 'error', error };
  }
}
