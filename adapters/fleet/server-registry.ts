/**
 * The INFERENCE_SERVERS list: a seed list of inference servers in one string,
 *
 *   INFERENCE_SERVERS=gpu-1=http://127.0.0.1:8000|16,gpu-2=http://127.0.0.1:8001
 *
 * Comma-separated entries `id=baseUrl` or `id=baseUrl|capacity`. `capacity` is the number of concurrent
 * sequences the server may hold while keeping the first-token objective: its batch slots plus a short
 * queue (e.g. vLLM `--max-num-seqs 12` plus 4 queued → 16). Without it, the `defaultCapacity` applies
 * (DEFAULT_SERVER_CAPACITY). Measure it: raise concurrency against one server until the p95 time to first
 * token crosses the objective, and take the concurrency just below. Each entry obeys the same rules as a
 * registration (domain/server-registration.ts).
 *
 * The servers themselves live in the server registry (a DynamoDB table, adapters/dynamodb/server-registry.ts),
 * which operators change with `npm run fleet` without a deploy. This list only seeds it: the local runtime
 * registers these servers at start (local/registry-seed.ts) instead of its simulated fleet, and tests use it.
 */
import type { InferenceServer } from '../../domain/ports';
import { InvalidServerRegistration, parseServerRegistration } from '../../domain/server-registration';

export interface FleetServer extends InferenceServer {
  /** Concurrent sequences (batch slots plus a short queue) within the latency objective. */
  readonly capacity: number;
}

/** Parses INFERENCE_SERVERS; throws an Error naming the first malformed entry, or a duplicate id. */
export function parseFleetServers(value: string, defaultCapacity: number): FleetServer[] {
  if (!Number.isInteger(defaultCapacity) || defaultCapacity < 1) {
    throw new Error(`The default server capacity must be an integer >= 1, got ${defaultCapacity}.`);
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new Error('The inference server list is empty.');
  const servers: FleetServer[] = [];
  const ids = new Set<string>();
  const urls = new Set<string>();
  for (const entry of entries) {
    const server = parseEntry(entry, defaultCapacity);
    if (ids.has(server.id)) throw new Error(`Inference server id "${server.id}" is listed twice.`);
    if (urls.has(server.baseUrl)) {
      throw new Error(
        `Inference server URL ${server.baseUrl} is listed twice (its capacity would count twice).`,
      );
    }
    ids.add(server.id);
    urls.add(server.baseUrl);
    servers.push(server);
  }
  return servers;
}

function parseEntry(entry: string, defaultCapacity: number): FleetServer {
  const malformed = (reason: string) =>
    new Error(
      `Malformed inference server entry "${entry}": ${reason} (expected id=http(s)://host:port or id=http(s)://host:port|capacity).`,
    );
  const separator = entry.indexOf('=');
  if (separator <= 0) throw malformed('no id');
  const [rawUrl = '', rawCapacity, ...extra] = entry.slice(separator + 1).split('|');
  if (extra.length > 0) throw malformed('more than one "|"');
  try {
    return parseServerRegistration(entry.slice(0, separator), rawUrl, rawCapacity ?? defaultCapacity);
  } catch (error) {
    if (error instanceof InvalidServerRegistration) throw malformed(error.message);
    throw error;
  }
}
