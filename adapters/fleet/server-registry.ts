/**
 * The inference servers the heartbeat scrapes, from the INFERENCE_SERVERS environment variable:
 *
 *   INFERENCE_SERVERS=gpu-1=http://10.0.0.10:8000|16,gpu-2=http://10.0.0.11:8000
 *
 * Comma-separated entries `id=baseUrl` or `id=baseUrl|capacity`. `capacity` is the number of concurrent
 * sequences the server may hold while keeping the first-token objective: its batch slots plus a short
 * queue (e.g. vLLM `--max-num-seqs 12` plus 4 queued → 16). Without it, the `defaultCapacity` applies
 * (DEFAULT_SERVER_CAPACITY in the heartbeat). Measure it: raise concurrency against one server until the
 * p95 time to first token crosses the objective, and take the concurrency just below.
 *
 * Adding or removing a server:
 * - on AWS: change the CDK context `inferenceServers` (cdk.json, or `cdk deploy -c inferenceServers=…`) and
 *   deploy; the heartbeat and the chat function get the new list with their next cold start. A removed
 *   server's `SERVER#<id>` item stays in the fleet table but no longer enters the fleet state.
 * - locally: set INFERENCE_SERVERS before starting the local runtime.
 */
import type { InferenceServer } from '../../domain/ports';

export interface FleetServer extends InferenceServer {
  /** Concurrent sequences (batch slots plus a short queue) within the latency objective. */
  readonly capacity: number;
}

const SERVER_ID = /^[A-Za-z0-9_.-]+$/;

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
  const id = entry.slice(0, separator).trim();
  if (!SERVER_ID.test(id)) throw malformed(`the id may hold only letters, digits, '_', '.' and '-'`);
  const [rawUrl = '', rawCapacity, ...extra] = entry.slice(separator + 1).split('|');
  if (extra.length > 0) throw malformed('more than one "|"');
  const baseUrl = rawUrl.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw malformed('the URL does not parse');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(baseUrl)) {
    throw malformed('the URL must be http(s)');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw malformed('the URL must hold no query, fragment or credentials');
  }
  if (rawCapacity === undefined) return { id, baseUrl, capacity: defaultCapacity };
  const capacityText = rawCapacity.trim();
  const capacity = /^\d+$/.test(capacityText) ? Number(capacityText) : Number.NaN;
  if (!Number.isSafeInteger(capacity) || capacity < 1)
    throw malformed('the capacity must be an integer >= 1');
  return { id, baseUrl, capacity };
}
