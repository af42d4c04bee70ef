/**
 * A fault-injecting HTTP proxy in front of a DynamoDB endpoint (dynalite), for tests that must show
 * what the product does when the table refuses writes. Give its endpoint to the local stack as
 * LOCAL_DYNAMODB_ENDPOINT. The rates apply to writes only (PutItem, UpdateItem, BatchWriteItem,
 * recognised by their `x-amz-target`); reads and table management pass, except for one-shot targeted
 * faults (failNext), which can hit any operation (e.g. the Query that reads a conversation).
 *
 * A refused write never reaches the table. Rates can be changed at any time (setRates); each write draws
 * once from a seeded PRNG, so a run with the same traffic is reproducible in its fault pattern.
 *
 *   throttle    → 400 ProvisionedThroughputExceededException (the SDK retries it with throttling backoff)
 *   serverError → 500 InternalServerError (the SDK retries it as a transient error)
 *   ambiguous   → the write IS applied, then answered 500 (DynamoDB documents that a 500 may follow an
 *                 applied write; a retry then meets its own write)
 *   hang        → never answered: the request stays open until the client gives up (its time-out)
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRandom } from '../../local/fleet/text';

export type WriteOperation = 'PutItem' | 'UpdateItem' | 'BatchWriteItem';

export const WRITE_OPERATIONS: readonly WriteOperation[] = ['PutItem', 'UpdateItem', 'BatchWriteItem'];

export interface FaultRates {
  /** Share of writes answered 400 ProvisionedThroughputExceededException, 0..1. */
  readonly throttle: number;
  /** Share of writes answered 500 InternalServerError without being applied, 0..1. */
  readonly serverError: number;
  /** Share of writes applied and then answered 500, 0..1. Default 0. */
  readonly ambiguous?: number;
  /** Share of writes never answered (a hung call), 0..1. Default 0. */
  readonly hang?: number;
  /** Only writes to these tables are refused; all tables when absent. */
  readonly tables?: readonly string[];
}

export const NO_FAULTS: FaultRates = { throttle: 0, serverError: 0 };

export interface FaultProxyStats {
  /** Write requests seen (each SDK attempt counts). */
  readonly writes: number;
  readonly throttled: number;
  readonly serverErrors: number;
  readonly ambiguous: number;
  readonly hung: number;
  /** Every request forwarded to the target (reads and applied writes). */
  readonly forwarded: number;
  /** Refusals by operation. */
  readonly refusedByOperation: Readonly<Record<string, number>>;
}

/** A one-shot fault for the next matching request(s), applied before the rates are drawn. */
export interface TargetedFault {
  /** 'ambiguous' (applied, then answered 500) makes sense for writes only. */
  readonly kind: 'throttle' | 'serverError' | 'ambiguous';
  /** Any DynamoDB operation name: a write, or a read such as 'Query' or 'GetItem'. */
  readonly operation: string;
  /** Only requests whose JSON body contains this text (e.g. an item's sort-key prefix). */
  readonly bodyIncludes?: string;
  /** How many matching requests it hits (the SDK's DynamoDB client makes 4 attempts). Default 1. */
  readonly count?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  setRates(rates: FaultRates): void;
  /** Queues a one-shot fault (stats().refusedByOperation counts the hits). */
  failNext(fault: TargetedFault): void;
  rates(): FaultRates;
  stats(): FaultProxyStats;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The real DynamoDB endpoint, e.g. dynalite's `http://127.0.0.1:PORT`. */
  readonly target: string;
  readonly host?: string;
  readonly rates?: FaultRates;
  /** Uniform [0, 1) source; default a mulberry32 seeded with `seed`. */
  readonly random?: () => number;
  readonly seed?: number;
}

const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

function validateRates(rates: FaultRates): FaultRates {
  const { throttle, serverError, ambiguous = 0, hang = 0 } = rates;
  for (const [name, value] of Object.entries({ throttle, serverError, ambiguous, hang })) {
    if (!(typeof value === 'number' && value >= 0 && value <= 1)) {
      throw new Error(`fault rate ${name} must be within 0..1, got ${String(value)}`);
    }
  }
  if (throttle + serverError + ambiguous + hang > 1) throw new Error('fault rates add up to more than 1');
  return { ...rates, ambiguous, hang };
}

/** The simulated fleet's seedable generator, so a seed replays the same faults. */
export const seededRandom = createRandom;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The tables a write request touches (TableName, or the keys of a BatchWriteItem's RequestItems). */
function tablesOf(body: Buffer): string[] {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return [];
    const { TableName, RequestItems } = parsed as { TableName?: unknown; RequestItems?: unknown };
    if (typeof TableName === 'string') return [TableName];
    if (typeof RequestItems === 'object' && RequestItems !== null) return Object.keys(RequestItems);
  } catch {
    // Not JSON: let the target answer it.
  }
  return [];
}

function sendAwsError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `${ERROR_PREFIX}${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

const throttleMessage =
  'The level of configured provisioned throughput for the table was exceeded. ' +
  'Consider increasing your provisioning level with the UpdateTable API.';

type FaultKind = TargetedFault['kind'] | 'hang';

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const host = options.host ?? '127.0.0.1';
  const random = options.random ?? seededRandom(options.seed ?? 1);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let current = validateRates(options.rates ?? NO_FAULTS);
  const counters = { writes: 0, throttled: 0, serverErrors: 0, ambiguous: 0, hung: 0, forwarded: 0 };
  const refusedByOperation: Record<string, number> = {};
  const targeted: { fault: TargetedFault; left: number }[] = [];
  const takeTargeted = (operation: string, body: Buffer): FaultKind | undefined => {
    const text = body.toString('utf8');
    const index = targeted.findIndex(
      ({ fault }) =>
        fault.operation === operation &&
        (fault.bodyIncludes === undefined || text.includes(fault.bodyIncludes)),
    );
    const entry = targeted[index];
    if (!entry) return undefined;
    entry.left--;
    if (entry.left <= 0) targeted.splice(index, 1);
    return entry.fault.kind;
  };

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const upstream = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: target.host, 'content-length': String(body.length) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 502,
              headers: response.headers,
              body: Buffer.concat(chunks),
            }),
          );
          response.on('error', reject);
        },
      );
      upstream.on('error', reject);
      upstream.end(body);
    });

  const server = createServer((req, res) => {
    res.on('error', () => {});
    void (async () => {
      const body = await readBody(req);
      const targetHeader = req.headers['x-amz-target'];
      const operation = typeof targetHeader === 'string' ? (targetHeader.split('.').pop() ?? '') : '';
      const isWrite = (WRITE_OPERATIONS as readonly string[]).includes(operation);
      let fault = takeTargeted(operation, body);
      if (isWrite) {
        counters.writes++;
        const rates = current;
        const inScope =
          rates.tables === undefined || tablesOf(body).some((table) => rates.tables?.includes(table));
        if (fault === undefined && inScope) {
          const draw = random();
          const ambiguous = rates.ambiguous ?? 0;
          if (draw < rates.throttle) fault = 'throttle';
          else if (draw < rates.throttle + rates.serverError) fault = 'serverError';
          else if (draw < rates.throttle + rates.serverError + ambiguous) fault = 'ambiguous';
          else if (draw < rates.throttle + rates.serverError + ambiguous + (rates.hang ?? 0)) fault = 'hang';
        }
      }
      if (fault !== undefined) refusedByOperation[operation] = (refusedByOperation[operation] ?? 0) + 1;
      if (fault === 'hang') {
        // Held open with no answer; close() ends it with the other connections.
        counters.hung++;
        return;
      }
      if (fault === 'throttle') {
        counters.throttled++;
        sendAwsError(res, 400, 'ProvisionedThroughputExceededException', throttleMessage);
        return;
      }
      if (fault === 'serverError') {
        counters.serverErrors++;
        sendAwsError(res, 500, 'InternalServerError', 'Internal server error');
        return;
      }
      const answer = await forward(req, body);
      counters.forwarded++;
      if (fault === 'ambiguous') {
        counters.ambiguous++;
        sendAwsError(res, 500, 'InternalServerError', 'Internal server error');
        return;
      }
      const headers = { ...answer.headers };
      delete headers.connection;
      delete headers['keep-alive'];
      delete headers['transfer-encoding'];
      headers['content-length'] = String(answer.body.length);
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    })().catch(() => {
      if (!res.headersSent)
        sendAwsError(res, 500, 'InternalServerError', 'Fault proxy could not reach the table');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    setRates(rates) {
      current = validateRates(rates);
    },
    failNext(fault) {
      targeted.push({ fault, left: fault.count ?? 1 });
    },
    rates: () => current,
    stats: () => ({ ...counters, refusedByOperation: { ...refusedByOperation } }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}
