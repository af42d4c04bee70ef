import { type FleetPolicy, isAvailable, type ServerLoad } from './fleet';

/**
 * Picks a server for one prompt: one draw with probability proportional to each safe server's
 * headroom. Every container works from a fleet snapshot up to one heartbeat old; sending prompts in
 * proportion to free capacity fills the servers evenly from that shared view, where "least loaded"
 * or the power of two choices (which, with a handful of servers, sends most prompts to the emptiest
 * one) make all containers herd onto the same server until the next heartbeat. Servers at or above
 * their safe threshold are never candidates.
 *
 * `extraLoad` is what this container has sent each server since the snapshot was taken.
 */
export function chooseServer(
  servers: readonly ServerLoad[],
  now: number,
  policy: FleetPolicy,
  random: () => number,
  exclude: ReadonlySet<string> = new Set(),
  extraLoad: ReadonlyMap<string, number> = new Map(),
): ServerLoad | undefined {
  const candidates: { server: ServerLoad; headroom: number }[] = [];
  let total = 0;
  for (const server of servers) {
    if (exclude.has(server.id) || !isAvailable(server, now, policy)) continue;
    const queued = server.running + server.waiting + (extraLoad.get(server.id) ?? 0);
    const queueLoad = queued / server.capacity;
    const kvLoad = server.kvCacheUsage === undefined ? 0 : server.kvCacheUsage / policy.kvSafe;
    const headroom = 1 - Math.max(queueLoad, kvLoad);
    if (headroom > 0) {
      candidates.push({ server, headroom });
      total += headroom;
    }
  }
  let point = random() * total;
  for (const candidate of candidates) {
    point -= candidate.headroom;
    if (point < 0) return candidate.server;
  }
  // Floating-point remainder lands on the last candidate; undefined when there is none.
  return candidates[candidates.length - 1]?.server;
}
