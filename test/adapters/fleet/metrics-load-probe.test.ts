import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsLoadProbe } from '../../../adapters/fleet/metrics-load-probe';

const vllmText = readFileSync(new URL('../../fixtures/metrics/vllm.txt', import.meta.url), 'utf8');
const tgiText = readFileSync(new URL('../../fixtures/metrics/tgi.txt', import.meta.url), 'utf8');

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback server whose answer depends on the first path segment: /<route>/metrics. */
const routes: Record<string, Route> = {
  vllm: (_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(vllmText),
  tgi: (_req, res) => res.writeHead(200).end(tgiText),
  busy: (_req, res) => res.writeHead(503, { 'retry-after': '1' }).end('overloaded'),
  html: (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy error</html>'),
  silent: () => {}, // never answers
  slowbody: (_req, res) => {
    res.writeHead(200);
    res.write('vllm:num_requests_running 1\n'); // ...and never ends
  },
  huge: (_req, res) => {
    res.writeHead(200);
    res.end(`${'# padding\n'.repeat(2000)}vllm:num_requests_running 1\nvllm:num_requests_waiting 0\n`);
  },
  binary: (_req, res) => res.writeHead(200).end(Buffer.from([0xff, 0xfe, 0x00, 0x41])),
};

let server: Server;
let origin: string;
const requests: { path: string; accept: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const [, route = '', rest] = (req.url ?? '').split('/');
    requests.push({ path: req.url ?? '', accept: req.headers.accept });
    const handler = rest === 'metrics' ? routes[route] : undefined;
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const clock = { now: () => 1_750_000_000_000 };
const warnings: Record<string, unknown>[] = [];
const log = { warn: (_message: string, ...extra: Record<string, unknown>[]) => warnings.push(...extra) };

function probeFor(route: string, options: { timeoutMs?: number; maxBytes?: number } = {}) {
  const probe = new MetricsLoadProbe({ clock, log, timeoutMs: options.timeoutMs ?? 5_000, ...options });
  return probe.probe({ id: `srv-${route}`, baseUrl: `${origin}/${route}`, capacity: 16 });
}

describe('MetricsLoadProbe', () => {
  it('scrapes <baseUrl>/metrics and returns the load of a healthy server, stamped with the clock', async () => {
    // Act
    const load = await probeFor('vllm');

    // Assess
    expect(load).toEqual({
      id: 'srv-vllm',
      baseUrl: `${origin}/vllm`,
      running: 12,
      waiting: 3,
      kvCacheUsage: 0.4172,
      completedTotal: 1576,
      capacity: 16,
      healthy: true,
      updatedAt: 1_750_000_000_000,
    });
    expect(requests.at(-1)).toEqual({ path: '/vllm/metrics', accept: 'text/plain;version=0.0.4' });
  });

  it('returns no KV use for an engine without a KV gauge', async () => {
    // Act
    const load = await probeFor('tgi');

    // Assess
    expect(load).toMatchObject({ running: 24, waiting: 6, healthy: true });
    expect(load).not.toHaveProperty('kvCacheUsage');
  });

  it.each([
    ['a non-200 answer', 'busy', 'http_503', 5_000],
    ['a body that is not metrics', 'html', 'unparseable', 5_000],
    ['a body that is not UTF-8', 'binary', 'unparseable', 5_000],
    ['an unknown path', 'nothing', 'http_404', 5_000],
    ['no answer within the time-out', 'silent', 'timeout', 100],
    ['a body that never ends', 'slowbody', 'timeout', 100],
  ])(
    'reports %s as unhealthy with zero counts, without throwing',
    async (_case, route, reason, timeoutMs) => {
      // Prepare
      warnings.length = 0;

      // Act
      const load = await probeFor(route, { timeoutMs });

      // Assess
      expect(load).toEqual({
        id: `srv-${route}`,
        baseUrl: `${origin}/${route}`,
        running: 0,
        waiting: 0,
        capacity: 16,
        healthy: false,
        updatedAt: 1_750_000_000_000,
      });
      expect(warnings).toEqual([{ server: `srv-${route}`, reason }]);
    },
  );

  it('reports a body larger than maxBytes as unhealthy', async () => {
    // Prepare
    warnings.length = 0;

    // Act
    const load = await probeFor('huge', { maxBytes: 1024 });

    // Assess
    expect(load.healthy).toBe(false);
    expect(warnings).toEqual([{ server: 'srv-huge', reason: 'too_large' }]);
  });

  it('reports a refused connection as unhealthy', async () => {
    // Prepare
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const probe = new MetricsLoadProbe({ clock, log });
    warnings.length = 0;

    // Act
    const load = await probe.probe({ id: 'gone', baseUrl: `http://127.0.0.1:${port}`, capacity: 4 });

    // Assess
    expect(load).toMatchObject({ id: 'gone', healthy: false, running: 0, waiting: 0, capacity: 4 });
    expect(warnings).toEqual([{ server: 'gone', reason: 'unreachable' }]);
  });

  it('uses the injected fetch, and survives one that throws', async () => {
    // Prepare
    const urls: string[] = [];
    const working = new MetricsLoadProbe({
      clock,
      fetch: async (url) => {
        urls.push(url);
        return new Response('llamacpp:requests_processing 2\nllamacpp:requests_deferred 5\n');
      },
    });
    const broken = new MetricsLoadProbe({
      clock,
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    const server = { id: 'x', baseUrl: 'http://x.invalid:8080', capacity: 8 };

    // Act
    const good = await working.probe(server);
    const bad = await broken.probe(server);

    // Assess
    expect(urls).toEqual(['http://x.invalid:8080/metrics']);
    expect(good).toMatchObject({ running: 2, waiting: 5, healthy: true });
    expect(bad).toMatchObject({ running: 0, waiting: 0, healthy: false });
  });

  it('refuses a time-out that is not positive', () => {
    // Act
    const act = () => new MetricsLoadProbe({ timeoutMs: 0 });

    // Assess
    expect(act).toThrow(/timeoutMs must be > 0/);
  });
});
