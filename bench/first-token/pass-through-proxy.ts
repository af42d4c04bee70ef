/**
 * The floor of one local hop: an HTTP server that forwards each request to an upstream (round robin
 * over `upstreams`) and pipes the streamed response back unchanged, chunk by chunk. No parsing, no
 * buffering, keep-alive both ways. `bench:first-token` runs it in its own process (proxy-main.ts).
 */
import { Agent, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PassThroughProxy {
  readonly url: string;
  close(): Promise<void>;
}

export async function startPassThroughProxy(
  upstreams: readonly string[],
  host = '127.0.0.1',
): Promise<PassThroughProxy> {
  if (upstreams.length === 0) throw new Error('the proxy needs at least one upstream');
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const targets = upstreams.map((upstream) => new URL(upstream));
  let next = 0;
  const server: Server = createServer((req, res) => {
    const target = targets[next++ % targets.length] as URL;
    const upstream = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer: IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"bad_gateway","message":"upstream failed"}}');
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolveListen) => server.listen(0, host, resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolveClose) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
