/**
 * A black-box count of DynamoDB requests: an HTTP proxy in front of a DynamoDB endpoint (dynalite) that
 * forwards every request unchanged and records its `x-amz-target` (e.g. DynamoDB_20120810.GetItem) and
 * when it arrived. Give its endpoint to the local stack as LOCAL_DYNAMODB_ENDPOINT.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  /** The operation: the part of `x-amz-target` after the dot. */
  readonly operation: string;
  /** performance.now() when the request arrived. */
  readonly at: number;
}

export interface CountingProxy {
  readonly endpoint: string;
  readonly requests: readonly ProxiedRequest[];
  /** The requests that arrived in [from, to] (performance.now() times). */
  between(from: number, to: number): ProxiedRequest[];
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const header = req.headers['x-amz-target'];
    const name = Array.isArray(header) ? header[0] : header;
    requests.push({ operation: (name ?? '').slice((name ?? '').indexOf('.') + 1), at: performance.now() });
    const forward = request(
      {
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    between: (from, to) => requests.filter((entry) => entry.at >= from && entry.at <= to),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
