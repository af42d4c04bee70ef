/** Shared by the gateway's tests: route definitions, a gateway per test with its logs, raw HTTP. */
import { request } from 'node:http';
import { afterEach } from 'vitest';
import type { RouteDefinition } from '../../../lib/resources';
import {
  type Gateway,
  type GatewayLogEntry,
  type GatewayRoute,
  startGateway,
} from '../../../local/gateway/server';

export function definition(
  id: string,
  path: string,
  streaming: boolean,
  timeoutSeconds = 5,
): RouteDefinition {
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

/**
 * A gateway per test: `start` replaces the previous one's log capture, afterEach closes it. Call at the
 * top of a test file.
 */
export function useGateway() {
  let gateway: Gateway | undefined;
  let capture = logCapture();
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });
  return {
    async start(routes: GatewayRoute[], extra: Partial<Parameters<typeof startGateway>[0]> = {}) {
      capture = logCapture();
      gateway = await startGateway({ host: '127.0.0.1', port: 0, routes, log: capture.log, ...extra });
      return gateway;
    },
    logs: {
      waitFor: (match: (e: GatewayLogEntry) => boolean) => capture.waitFor(match),
      get entries(): readonly GatewayLogEntry[] {
        return capture.entries;
      },
    },
  };
}

/** node:http request, so a test can send repeated header lines (fetch folds them into one). */
export function rawRequest(
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

export async function readText(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  expected: string,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  while (text.length < expected.length) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}
