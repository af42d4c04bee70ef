/** The HTTP side of one invocation, and what an invocation can come to. */
import type { ServerResponse } from 'node:http';
import { errorBody, sendJson } from './json-response';

export type Outcome = { kind: 'ok' } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

type Invocable = (...args: unknown[]) => unknown;

export function isInvocable(value: unknown): value is Invocable {
  return typeof value === 'function';
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof Reflect.get(value, 'then') === 'function'
  );
}

/** The HTTP side of one invocation: what was sent, and whether anything more may be. */
export class Invocation {
  status = 0;
  bytesSent = 0;
  bytesDiscarded = 0;
  clientGone = false;
  /** Set once the response is over (ended, failed, timed out): later handler writes are dropped. */
  closed = false;

  constructor(
    readonly res: ServerResponse,
    onClientGone: () => void,
  ) {
    res.on('close', () => {
      if (!res.writableFinished && !this.closed) {
        this.clientGone = true;
        onClientGone();
      }
    });
  }

  get headWritten(): boolean {
    return this.res.headersSent;
  }

  get accepting(): boolean {
    return !this.closed && !this.clientGone && !this.res.destroyed;
  }

  writeHead(statusCode: number, headers: Record<string, string | string[]>): void {
    if (this.closed) return;
    this.status = statusCode;
    if (!this.accepting) return;
    for (const [name, value] of Object.entries(headers)) this.res.setHeader(name, value);
    this.res.statusCode = statusCode;
    this.res.flushHeaders();
  }

  /**
   * Sends one body chunk now. Returns nothing when the socket can take more at once (the common case: no
   * promise per chunk), else a promise that resolves when it drained (or the client is gone).
   */
  send(chunk: Buffer): Promise<void> | undefined {
    if (chunk.length === 0) return undefined;
    if (!this.accepting) {
      this.bytesDiscarded += chunk.length;
      return undefined;
    }
    this.bytesSent += chunk.length;
    if (this.res.write(chunk)) return undefined;
    return new Promise<void>((resolveDrain) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolveDrain();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  sendWhole(statusCode: number, headers: Record<string, string | string[]>, body: Buffer): void {
    if (this.closed) return;
    this.status = statusCode;
    if (!this.accepting) {
      this.bytesDiscarded += body.length;
      this.closed = true;
      return;
    }
    this.res.writeHead(statusCode, { ...headers, 'content-length': String(body.length) });
    this.bytesSent += body.length;
    this.res.end(body);
    this.closed = true;
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.res.headersSent && !this.res.destroyed) {
      this.status = this.status || 200;
      this.res.statusCode = this.status;
    }
    this.res.end();
  }

  /** A function error: 502 JSON if nothing was sent yet, otherwise the response just ends. */
  fail(code: string, message: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.res.headersSent || this.res.destroyed) {
      this.res.end();
      return;
    }
    this.status = 502;
    sendJson(this.res, 502, errorBody(code, message));
  }
}
