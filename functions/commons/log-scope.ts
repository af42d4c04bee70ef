/**
 * The keys of one request's log lines (correlation, caller, turn), held per async context rather than
 * on the container's logger. A streamed turn outlives its handler: middy's after hooks (Powertools'
 * resetKeys) run when the handler returns the stream, so keys appended to the logger were gone before
 * the "turn ended" line, and the local gateway runs many invocations in one process, where keys on a
 * shared logger would cross between them. CompactLogFormatter adds the current scope to every line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LogScopeKeys {
  request_id?: string;
  correlation_id?: string;
  user_id?: string;
  tier?: string;
  message_id?: string;
  /** The API key a `/v1/*` caller authenticated with: its id, never the key. */
  api_key_id?: string;
}

const storage = new AsyncLocalStorage<LogScopeKeys>();

/** Runs `work` (and everything it starts) in a fresh scope holding `keys`. */
export function runInLogScope<T>(keys: LogScopeKeys, work: () => T): T {
  return storage.run(defined(keys), work);
}

/** Adds keys to the current scope's lines from now on; outside a scope it does nothing. */
export function addLogScopeKeys(keys: LogScopeKeys): void {
  const scope = storage.getStore();
  if (scope) Object.assign(scope, defined(keys));
}

/** Without unset keys: an unset key must not hide the line's own value (the context's request id). */
function defined(keys: LogScopeKeys): LogScopeKeys {
  return Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined));
}

/** The current scope's keys (empty outside a scope). */
export function logScopeKeys(): Readonly<LogScopeKeys> | undefined {
  return storage.getStore();
}

/**
 * The iterable, resumed in the scope current now. A response stream pulls its body from socket and
 * stream callbacks, which belong to no request: without this the frames of a streamed turn, and all
 * the turn's work they drive, would run (and log) outside the request's scope.
 */
export function bindToLogScope<T>(iterable: AsyncIterable<T>): AsyncIterableIterator<T> {
  const scope = storage.getStore();
  const iterator = iterable[Symbol.asyncIterator]();
  const inScope = <R>(work: () => R): R => (scope ? storage.run(scope, work) : work());
  const bound: AsyncIterableIterator<T> = {
    next: (...args: [] | [unknown]) => inScope(() => iterator.next(...args)),
    return: (value?: unknown) =>
      inScope(() => iterator.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
    throw: (error?: unknown) => inScope(() => iterator.throw?.(error) ?? Promise.reject(error)),
    [Symbol.asyncIterator]: () => bound,
  };
  return bound;
}
