import type { BackoffPolicy } from '../contract/backoff';
import { retryAfterSeconds } from '../contract/backoff';
import { ENTITLEMENTS } from '../contract/entitlements';
import { OVERLOADED_MESSAGE } from '../contract/errors';
import type { Tier } from '../contract/turn';
import { DomainError } from '../domain/errors';
import {
  type AdmissionDecision,
  admit,
  type FleetPolicy,
  type FleetState,
  isRoutable,
  type ServerLoad,
  viewTrust,
} from '../domain/fleet';
import type { Clock, FleetRepository, InferenceServer, ServerSelector } from '../domain/ports';
import { chooseServer } from '../domain/routing';

export interface Admission {
  /** Admits one prompt or throws `overloaded` with the tier's Retry-After; the selector routes it. */
  admit(tier: Tier, retryAttempt: number): Promise<ServerSelector>;
}

/**
 * How prompts are admitted and routed:
 * - `load_based` (default): the fleet mode decides (free tier shed by ratio, then everyone when saturated),
 *   and nothing goes to a server at or above its safe threshold;
 * - `static_reservation`: the first `reservedServers` servers (by id) of a view serve premium only, free
 *   tier uses the rest; each within its safe threshold. No shedding by load.
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
  readonly fleet: Pick<FleetRepository, 'getView'>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly policy: FleetPolicy;
  readonly backoff: BackoffPolicy;
  /** How long one read of a view is reused: at most one heartbeat interval. */
  readonly cacheMs: number;
  /** Heartbeat shards, one view each (FLEET_SHARDS). Default 1. */
  readonly shards?: number;
  /** Views a prompt may look at for a server with room, before it is held or refused. Default 2. */
  readonly viewsPerPrompt?: number;
  /**
   * How long a premium prompt that finds no server with room is held and re-checked before it is refused:
   * slots free up continuously, and the view of them is a heartbeat old. 0 refuses at once.
   */
  readonly premiumWaitMs?: number;
  /** Waits between re-checks; tests and the simulation pass one on their own clock. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** How often a held premium prompt looks for a server again. */
const PREMIUM_RECHECK_MS = 100;
/** Own sends older than this are forgotten even if never released (a lost release must not leak). */
const IN_FLIGHT_MEMORY_MS = 15 * 60_000;

type Refusal = Exclude<AdmissionDecision, { admitted: true }>['reason'] | 'servers_refused';

/**
 * Admission and routing inside the chat function, from the shard views the heartbeat writes.
 * Each prompt starts from one shard's view, drawn at random (one small read, cached for `cacheMs`,
 * single-flight), and looks at a second view only when the first has no room: containers spread
 * over all shards without any of them reading the whole fleet.
 *
 * Static stability: a failed read keeps the last view of that shard, else any view this container holds,
 * else another shard's; an old view never refuses by itself (viewTrust only makes routing and free tier
 * more careful). What this container itself sent, and has not seen ended, counts against each server
 * until a report newer than the send includes it.
 */
export class FleetGate implements Admission {
  private readonly views = new Map<number, { state: FleetState | undefined; readAt: number }>();
  private readonly refreshing = new Map<number, Promise<FleetState | undefined>>();
  /** Per server, the times of this container's sends still in flight there. */
  private readonly inFlight = new Map<string, number[]>();

  constructor(private readonly deps: FleetGateDeps) {}

  async admit(tier: Tier, retryAttempt: number): Promise<ServerSelector> {
    const policy = this.deps.admissionPolicy ?? { kind: 'load_based' };
    const shard = this.randomShard();
    const state = (await this.view(shard)) ?? (await this.fallbackView(shard));
    if (policy.kind === 'load_based') {
      const decision = admit(state, tier, this.deps.random());
      if (!decision.admitted) throw this.refusal(tier, retryAttempt, decision.reason);
    }
    const first = state?.shard ?? shard;
    return {
      attempts: ENTITLEMENTS[tier].serverAttempts,
      ...(state && { viewAgeMs: Math.max(0, this.deps.clock.now() - state.updatedAt) }),
      pick: async (exclude = new Set()) => {
        const hold = ENTITLEMENTS[tier].heldForRoom ? (this.deps.premiumWaitMs ?? 0) : 0;
        const holdUntil = this.deps.clock.now() + hold;
        let chosen = await this.choose(policy, tier, first, exclude);
        while (!chosen && this.deps.clock.now() + PREMIUM_RECHECK_MS <= holdUntil) {
          await (this.deps.sleep ?? defaultSleep)(PREMIUM_RECHECK_MS);
          chosen = await this.choose(policy, tier, first, exclude);
        }
        if (!chosen) throw this.refusal(tier, retryAttempt, 'saturated');
        this.recordSend(chosen.id);
        const server: InferenceServer = { id: chosen.id, baseUrl: chosen.baseUrl };
        return server;
      },
      overloaded: () => this.refusal(tier, retryAttempt, 'servers_refused'),
      release: (server) => this.release(server.id),
    };
  }

  /** A server with room in the first view, else in up to viewsPerPrompt − 1 other shards' views. */
  private async choose(
    policy: AdmissionPolicy,
    tier: Tier,
    first: number,
    exclude: ReadonlySet<string>,
  ): Promise<ServerLoad | undefined> {
    const shards = this.deps.shards ?? 1;
    const tried = new Set<number>();
    let firstState: FleetState | undefined;
    for (let look = 0; look < Math.min(shards, this.deps.viewsPerPrompt ?? 2); look++) {
      const shard = look === 0 ? first : this.randomShard(tried);
      tried.add(shard);
      const state = await this.view(shard);
      if (!state) continue;
      firstState ??= state;
      const chosen = this.chooseIn(policy, tier, state, exclude);
      if (chosen) return chosen;
    }
    if (policy.kind !== 'admit_all' || !firstState) return undefined;
    return leastLoaded(firstState.servers, exclude, this.extraLoad(firstState.servers));
  }

  private chooseIn(
    policy: AdmissionPolicy,
    tier: Tier,
    state: FleetState,
    exclude: ReadonlySet<string>,
  ): ServerLoad | undefined {
    const now = this.deps.clock.now();
    const trust = policy.kind === 'load_based' ? viewTrust(now - state.updatedAt, this.deps.policy) : 1;
    const { shedFreeAt, freeCeilingFloor } = this.deps.policy;
    // A tier held to the shed threshold (under load_based) gets less of it on an old view; the safe limit
    // is a server's whole room.
    const ceiling =
      policy.kind === 'load_based' && ENTITLEMENTS[tier].serverCeiling === 'shed_threshold'
        ? shedFreeAt * (freeCeilingFloor + (1 - freeCeilingFloor) * trust)
        : 1;
    const servers = this.serversFor(policy, tier, state.servers);
    return chooseServer(servers, {
      now,
      policy: this.deps.policy,
      random: this.deps.random,
      exclude,
      extraLoad: this.extraLoad(servers),
      ceiling,
      trust,
    });
  }

  private serversFor(
    policy: AdmissionPolicy,
    tier: Tier,
    servers: readonly ServerLoad[],
  ): readonly ServerLoad[] {
    if (policy.kind !== 'static_reservation' || ENTITLEMENTS[tier].usesReservedServers) return servers;
    const reserved = new Set(
      [...servers]
        .map((server) => server.id)
        .sort()
        .slice(0, policy.reservedServers),
    );
    return servers.filter((server) => !reserved.has(server.id));
  }

  /** Own sends a server's report cannot include yet: those made after its scrape. */
  private extraLoad(servers: readonly ServerLoad[]): Map<string, number> {
    const extra = new Map<string, number>();
    if (this.inFlight.size === 0) return extra;
    for (const server of servers) {
      const sends = this.inFlight.get(server.id);
      if (!sends) continue;
      const unseen = sends.filter((sentAt) => sentAt >= server.updatedAt).length;
      if (unseen > 0) extra.set(server.id, unseen);
    }
    return extra;
  }

  private recordSend(serverId: string): void {
    const now = this.deps.clock.now();
    const sends = (this.inFlight.get(serverId) ?? []).filter((at) => now - at < IN_FLIGHT_MEMORY_MS);
    sends.push(now);
    this.inFlight.set(serverId, sends);
  }

  private release(serverId: string): void {
    const sends = this.inFlight.get(serverId);
    // The oldest goes: it is the one a report most likely counts already, so the estimate errs high.
    sends?.shift();
    if (sends?.length === 0) this.inFlight.delete(serverId);
  }

  private refusal(tier: Tier, retryAttempt: number, reason: Refusal): DomainError {
    return new DomainError('overloaded', OVERLOADED_MESSAGE, {
      retry_after_seconds: retryAfterSeconds(tier, retryAttempt, this.deps.random(), this.deps.backoff),
      reason,
      tier,
    });
  }

  private randomShard(not: ReadonlySet<number> = new Set()): number {
    const shards = this.deps.shards ?? 1;
    let shard = Math.floor(this.deps.random() * shards) % shards;
    // Few shards are ever excluded (viewsPerPrompt): step to the next free one.
    for (let step = 0; step < shards && not.has(shard); step++) shard = (shard + 1) % shards;
    return shard;
  }

  /** No view of the drawn shard: another shard's, read now, else the freshest this container holds. */
  private async fallbackView(unread: number): Promise<FleetState | undefined> {
    if ((this.deps.shards ?? 1) > 1) {
      const other = await this.view(this.randomShard(new Set([unread])));
      if (other) return other;
    }
    let freshest: FleetState | undefined;
    for (const { state } of this.views.values()) {
      if (state && (!freshest || state.updatedAt > freshest.updatedAt)) freshest = state;
    }
    return freshest;
  }

  /** One shard's view: cached for cacheMs, read once for concurrent prompts, the last one kept on failure. */
  private async view(shard: number): Promise<FleetState | undefined> {
    const now = this.deps.clock.now();
    const cached = this.views.get(shard);
    if (cached && now - cached.readAt < this.deps.cacheMs) return cached.state;
    let refresh = this.refreshing.get(shard);
    if (!refresh) {
      const held = () => this.views.get(shard)?.state;
      refresh = this.deps.fleet
        .getView(shard)
        .then(
          (state) => {
            // A view read back older than the one held (a lagging replica) does not replace it.
            const last = held();
            const kept = last && state && last.updatedAt > state.updatedAt ? last : (state ?? last);
            this.views.set(shard, { state: kept, readAt: this.deps.clock.now() });
            return kept;
          },
          () => {
            // Unreachable or throttled: keep the last view, and let the next read wait a cache period, so
            // a failing table is not hammered by every prompt. Holding none, the next prompt tries again.
            const last = held();
            if (last) this.views.set(shard, { state: last, readAt: this.deps.clock.now() });
            return last;
          },
        )
        .finally(() => this.refreshing.delete(shard));
      this.refreshing.set(shard, refresh);
    }
    return refresh;
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
    if (exclude.has(server.id) || !isRoutable(server)) continue;
    const load = (server.running + server.waiting + (extra.get(server.id) ?? 0)) / server.capacity;
    if (load < bestLoad) {
      best = server;
      bestLoad = load;
    }
  }
  return best;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
