import { DomainError, OVERLOADED_MESSAGE } from './errors';
import {
  type AdmissionDecision,
  admit,
  type BackoffPolicy,
  type FleetPolicy,
  type FleetState,
  retryAfterSeconds,
  type ServerLoad,
} from './fleet';
import type { Clock, FleetRepository, InferenceServer, ServerSelector } from './ports';
import { chooseServer } from './routing';
import type { Tier } from './turn';

export interface Admission {
  /** Admits one prompt or throws `overloaded` with the tier's Retry-After; the selector routes it. */
  admit(tier: Tier, retryAttempt: number): Promise<ServerSelector>;
}

/**
 * How prompts are admitted and routed:
 * - `load_based` (default): the fleet mode decides (free tier shed by ratio, then everyone when saturated),
 *   and nothing goes to a server at or above its safe threshold;
 * - `static_reservation`: the first `reservedServers` servers (by id) serve premium only, free tier uses the
 *   rest; each within its safe threshold. No shedding by load.
 * - `admit_all`: no admission and no thresholds: every prompt goes to the server with most headroom, however
 *   deep its queue ("everyone gets slower").
 * The last two exist to be measured against (bench/overload.ts), and as a switch an operator can flip.
 */
export type AdmissionPolicy =
  | { readonly kind: 'load_based' }
  | { readonly kind: 'static_reservation'; readonly reservedServers: number }
  | { readonly kind: 'admit_all' };

export interface FleetGateDeps {
  readonly admissionPolicy?: AdmissionPolicy;
  readonly fleet: Pick<FleetRepository, 'getState'>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly policy: FleetPolicy;
  readonly backoff: BackoffPolicy;
  /** How long one read of the fleet state is reused: at most one heartbeat interval. */
  readonly cacheMs: number;
  /**
   * How long a premium prompt that finds no server with room is held and re-checked before it is refused:
   * slots free up continuously, and the view of them is a heartbeat old. 0 refuses at once.
   */
  readonly premiumWaitMs?: number;
  /** Waits between re-checks; tests pass one that advances their fake clock. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How often a held premium prompt looks for a server again. */
const PREMIUM_RECHECK_MS = 100;

/**
 * Admission and routing inside the chat function, from the fleet state the heartbeat writes.
 * One container reads the state at most once per `cacheMs` (single-flight), so most prompts cost no
 * DynamoDB round trip; prompts this container routed since that read count against their servers.
 */
export class FleetGate implements Admission {
  private snapshot: { state: FleetState | undefined; readAt: number } | undefined;
  private refreshing: Promise<FleetState | undefined> | undefined;
  private sentSinceSnapshot = new Map<string, number>();

  constructor(private readonly deps: FleetGateDeps) {}

  async admit(tier: Tier, retryAttempt: number): Promise<ServerSelector> {
    const policy = this.deps.admissionPolicy ?? { kind: 'load_based' };
    const state = await this.currentState();
    if (policy.kind === 'load_based') {
      const decision = admit(state, tier, this.deps.clock.now(), this.deps.random(), this.deps.policy);
      if (!decision.admitted) throw this.refusal(tier, retryAttempt, decision.reason);
    }
    // Free tier may fill a server only up to the shed threshold (under load_based), premium up to its safe limit.
    const ceiling = policy.kind === 'load_based' && tier === 'free' ? this.deps.policy.shedFreeAt : 1;
    return {
      pick: async (exclude = new Set()) => {
        const holdUntil = this.deps.clock.now() + (tier === 'premium' ? (this.deps.premiumWaitMs ?? 0) : 0);
        let chosen = await this.choose(policy, tier, ceiling, exclude);
        while (!chosen && this.deps.clock.now() + PREMIUM_RECHECK_MS <= holdUntil) {
          await (this.deps.sleep ?? defaultSleep)(PREMIUM_RECHECK_MS);
          chosen = await this.choose(policy, tier, ceiling, exclude);
        }
        if (!chosen) throw this.refusal(tier, retryAttempt, 'saturated');
        this.sentSinceSnapshot.set(chosen.id, (this.sentSinceSnapshot.get(chosen.id) ?? 0) + 1);
        const server: InferenceServer = { id: chosen.id, baseUrl: chosen.baseUrl };
        return server;
      },
      overloaded: () => this.refusal(tier, retryAttempt, 'servers_refused'),
    };
  }

  private async choose(
    policy: AdmissionPolicy,
    tier: Tier,
    ceiling: number,
    exclude: ReadonlySet<string>,
  ): Promise<ServerLoad | undefined> {
    const servers = this.serversFor(policy, tier, (await this.currentState())?.servers ?? []);
    return (
      chooseServer(servers, {
        now: this.deps.clock.now(),
        policy: this.deps.policy,
        random: this.deps.random,
        exclude,
        extraLoad: this.sentSinceSnapshot,
        ceiling,
      }) ?? (policy.kind === 'admit_all' ? leastLoaded(servers, exclude, this.sentSinceSnapshot) : undefined)
    );
  }

  private serversFor(
    policy: AdmissionPolicy,
    tier: Tier,
    servers: readonly ServerLoad[],
  ): readonly ServerLoad[] {
    if (policy.kind !== 'static_reservation' || tier === 'premium') return servers;
    const reserved = new Set(
      [...servers]
        .map((server) => server.id)
        .sort()
        .slice(0, policy.reservedServers),
    );
    return servers.filter((server) => !reserved.has(server.id));
  }

  private refusal(
    tier: Tier,
    retryAttempt: number,
    reason: Exclude<AdmissionDecision, { admitted: true }>['reason'] | 'servers_refused',
  ): DomainError {
    return new DomainError('overloaded', OVERLOADED_MESSAGE, {
      retry_after_seconds: retryAfterSeconds(tier, retryAttempt, this.deps.random(), this.deps.backoff),
      reason,
      tier,
    });
  }

  private async currentState(): Promise<FleetState | undefined> {
    const now = this.deps.clock.now();
    if (this.snapshot && now - this.snapshot.readAt < this.deps.cacheMs) return this.snapshot.state;
    if (!this.refreshing) {
      this.refreshing = this.deps.fleet
        .getState()
        .then((state) => {
          this.snapshot = { state, readAt: this.deps.clock.now() };
          this.sentSinceSnapshot = new Map();
          return state;
        })
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    try {
      return await this.refreshing;
    } catch {
      // The table is unreachable: keep using the last view; admit() refuses once it is stale.
      return this.snapshot?.state;
    }
  }
}

/** admit_all's fallback when every server is past its threshold: the least queued healthy one. */
function leastLoaded(
  servers: readonly ServerLoad[],
  exclude: ReadonlySet<string>,
  extra: ReadonlyMap<string, number>,
): ServerLoad | undefined {
  let best: ServerLoad | undefined;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (const server of servers) {
    if (exclude.has(server.id) || !server.healthy) continue;
    const load = (server.running + server.waiting + (extra.get(server.id) ?? 0)) / server.capacity;
    if (load < bestLoad) {
      best = server;
      bestLoad = load;
    }
  }
  return best;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
