import { type FleetPolicy, isAvailable, loadWith, type ServerLoad } from './fleet';

/**
 * Picks a server for one prompt: one draw with probability proportional to each safe server's
 * headroom. Every container works from a fleet snapshot up to one heartbeat old; sending prompts in
 * proportion to free capacity fills the servers evenly from that shared view, where "least loaded"
 * or the power of two choices (which, with a handful of servers, sends most prompts to the emptiest
 * one) make all containers herd onto the same server until the next heartbeat. Servers at or above
 * their safe threshold are never candidates.
 *
 * `ceiling` is the load a server may reach with this prompt: 1 (its safe threshold) for premium, the
 * shed threshold for free tier, so a burst of free prompts between two heartbeats can fill the batch
 * slots but never the short queue above them that premium relies on.
 */
export interface ChooseOptions {
  readonly now: number;
  readonly policy: FleetPolicy;
  readonly random: () => number;
  readonly exclude?: ReadonlySet<string>;
  /** What this container has sent each server since the snapshot was taken. */
  readonly extraLoad?: ReadonlyMap<string, number>;
  readonly ceiling?: number;
}

export function chooseServer(servers: readonly ServerLoad[], options: ChooseOptions): ServerLoad | undefined {
  const { now, policy, random, exclude = new Set(), extraLoad = new Map(), ceiling = 1 } = options;
  const candidates: { server: ServerLoad; headroom: number }[] = [];
  let total = 0;
  for (const server of servers) {
    if (exclude.has(server.id) || !isAvailable(server, now, policy)) continue;
    // Sequences on the server now: the snapshot, plus what this container sent since, minus what finished
    // since at the server's measured rate (a view a second old is otherwise a second of freed slots unseen);
    // then this prompt, which must keep the server within the ceiling.
    const ageSeconds = Math.max(0, now - server.updatedAt) / 1000;
    const finished = Math.min(server.running, (server.completionRate ?? 0) * ageSeconds);
    const sequences = server.running + server.waiting - finished + (extraLoad.get(server.id) ?? 0) + 1;
    const headroom = ceiling - loadWith(server, sequences, policy);
    if (headroom >= 0) {
      candidates.push({ server, headroom });
      total += headroom;
    }
  }
  // Weights: headroom plus a sliver, so a server that fits exactly (headroom 0) can still be drawn.
  const sliver = 1e-6;
  let point = random() * (total + sliver * candidates.length);
  for (const candidate of candidates) {
    point -= candidate.headroom + sliver;
    if (point < 0) return candidate.server;
  }
  // Floating-point remainder lands on the last candidate; undefined when there is none.
  return candidates[candidates.length - 1]?.server;
}
