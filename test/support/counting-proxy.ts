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
  /** The table it names (`TableName`, or the first of a batch's `RequestItems`), when it names one. */
  readonly table?: string;
  /** The index a Query names (`IndexName`). */
  readonly index?: string;
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
    const entry: { operation: string; at: number; table?: string; index?: string } = {
      operation: (name ?? '').slice((name ?? '').indexOf('.') + 1),
      at: performance.now(),
    };
    requests.push(entry);
    // The body is read beside the forwarding (never delaying it), only to name the table.
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Object.assign(entry, namesOf(Buffer.concat(chunks).toString('utf8')));
    });
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

/** The table (and index) a request body names. */
function namesOf(body: string): { table?: string; index?: string } {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return {};
    const table: unknown = Reflect.get(parsed, 'TableName');
    const index: unknown = Reflect.get(parsed, 'IndexName');
    const items: unknown = Reflect.get(parsed, 'RequestItems');
    const batchTable = typeof items === 'object' && items !== null ? Object.keys(items)[0] : undefined;
    const named = typeof table === 'string' ? table : batchTable;
    return {
      ...(named === undefined ? {} : { table: named }),
      ...(typeof index === 'string' ? { index } : {}),
    };
  } catch {
    return {};
  }
}
