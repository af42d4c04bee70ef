import { type FleetPolicy, isRoutable, loadWith, type ServerLoad } from './fleet';

/**
 * Picks a server for one prompt: one draw with probability proportional to each safe server's
 * headroom. Every container works from a view up to a heartbeat old; sending prompts in proportion to
 * free capacity fills the servers evenly from that shared view, where "least loaded" or the power of two
 * choices over a handful of servers make all containers herd onto the same server until the next
 * heartbeat. Servers at or above their safe threshold are never candidates.
 *
 * `ceiling` is the load a server may reach with this prompt: 1 (its safe threshold) for premium, the
 * shed threshold for free tier, so a burst of free prompts between two heartbeats can fill the batch
 * slots but never the short queue above them that premium relies on.
 *
 * `trust` (viewTrust of the view's age) blends the draw from headroom (1, a fresh view) to an even
 * spread (0): a view frozen by a control-plane outage would otherwise keep steering every container onto
 * the servers that happened to be empty when it was taken, long after they filled up. A server the last
 * view showed past the ceiling stays out however old the view (that is the only evidence there is);
 * the servers' own bounded queues (429/503) and failover guard the rest.
 */
export interface ChooseOptions {
  readonly now: number;
  readonly policy: FleetPolicy;
  readonly random: () => number;
  readonly exclude?: ReadonlySet<string>;
  /** What this container has in flight on each server that the server's report cannot know of yet. */
  readonly extraLoad?: ReadonlyMap<string, number>;
  readonly ceiling?: number;
  /** How far the view is trusted, 0..1 (default 1). */
  readonly trust?: number;
}

export function chooseServer(servers: readonly ServerLoad[], options: ChooseOptions): ServerLoad | undefined {
  const { now, policy, random, exclude = new Set(), extraLoad = new Map(), ceiling = 1, trust = 1 } = options;
  const candidates: { server: ServerLoad; headroom: number }[] = [];
  let total = 0;
  for (const server of servers) {
    if (exclude.has(server.id) || !isRoutable(server)) continue;
    const headroom = ceiling - projectedLoad(server, now, policy, extraLoad.get(server.id) ?? 0);
    if (headroom >= 0) {
      candidates.push({ server, headroom: Math.max(0, headroom) });
      total += Math.max(0, headroom);
    }
  }
  if (candidates.length === 0) return undefined;
  // With probability 1 − trust the draw is even over the candidates; otherwise by headroom.
  if (trust < 1 && random() >= trust) return candidates[Math.floor(random() * candidates.length)]?.server;
  // Weights: headroom plus a sliver, so a server that fits exactly (headroom 0) can still be drawn.
  const sliver = 1e-6;
  let point = random() * (total + sliver * candidates.length);
  for (const candidate of candidates) {
    point -= candidate.headroom + sliver;
    if (point < 0) return candidate.server;
  }
  // Floating-point remainder lands on the last candidate.
  return candidates[candidates.length - 1]?.server;
}

/**
 * A server's load with one more prompt: its report, plus what this container sent since, minus what
 * finished since at the server's measured rate (a view a second old is otherwise a second of freed slots
 * unseen). The credit stops at staleAfterMs: past it, arrivals unseen by the view are as likely as
 * completions, so an old view is taken as it is rather than as ever emptier.
 */
export function projectedLoad(server: ServerLoad, now: number, policy: FleetPolicy, extra: number): number {
  const creditedSeconds = Math.min(Math.max(0, now - server.updatedAt), policy.staleAfterMs) / 1000;
  const finished = Math.min(server.running, (server.completionRate ?? 0) * creditedSeconds);
  return loadWith(server, server.running + server.waiting - finished + extra + 1, policy);
}
