/**
 * At start, the local stack registers the servers it knows in the server registry
 * (adapters/dynamodb/server-registry.ts), which is where the heartbeat finds them: the simulated fleet's
 * `gpu-N` (new ports on every start) or, with INFERENCE_SERVERS, those entries.
 *
 * - A seeded server is upserted with its current URL and capacity. A simulated one is a new process on
 *   every start, so it is replaced whole (active); an INFERENCE_SERVERS one (`keepDraining`) is the same
 *   server as before, so an operator's `drain` of it survives the restart.
 * - Ids `gpu-<n>` belong to the local stack: one it does not seed this time (a larger simulated fleet last
 *   time, or a simulated fleet before INFERENCE_SERVERS) is removed, since its port is gone.
 * - Every other server is left alone: servers an operator added with `npm run fleet -- add` stay.
 */
import type { ServerRegistry } from '../domain/ports';
import type { ServerRegistration } from '../domain/server-registration';

/** The ids the simulated fleet gives its servers (local/fleet/fleet.ts). */
export const SIMULATED_SERVER_ID = /^gpu-\d+$/;

export interface SeedResult {
  /** Ids put, in the order given. */
  readonly upserted: readonly string[];
  /** Of those, the ones kept draining (keepDraining). */
  readonly draining: readonly string[];
  /** Stale `gpu-<n>` ids removed. */
  readonly removed: readonly string[];
}

export interface SeedOptions {
  /** Keep the status of a server already registered (true for INFERENCE_SERVERS, false for simulated ones). */
  readonly keepDraining: boolean;
}

export async function seedServerRegistry(
  registry: ServerRegistry,
  servers: readonly ServerRegistration[],
  options: SeedOptions,
): Promise<SeedResult> {
  const existing = new Map((await registry.listAll()).map((server) => [server.id, server]));
  const seeded = new Set(servers.map((server) => server.id));
  const draining: string[] = [];
  for (const server of servers) {
    const status = options.keepDraining ? (existing.get(server.id)?.status ?? 'active') : 'active';
    if (status === 'draining') draining.push(server.id);
    await registry.put({ id: server.id, baseUrl: server.baseUrl, capacity: server.capacity, status });
  }
  const removed: string[] = [];
  for (const id of existing.keys()) {
    if (SIMULATED_SERVER_ID.test(id) && !seeded.has(id) && (await registry.remove(id))) removed.push(id);
  }
  return { upserted: servers.map((server) => server.id), draining, removed };
}
