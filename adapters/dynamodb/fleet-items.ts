/**
 * The items of the fleet table (fleetTable in lib/resources.ts), one per heartbeat shard.
 *
 * View item: pk = VIEW#<shard>, shard, mode, load, smoothed_load, free_admit_ratio, no_safe_since?,
 *            shed_since?, below_since?, free_returns_at?, updated_at (epoch ms), version,
 *            t_used, t_capacity, t_safe (the shard's totals, which every worker reads for the fleet load),
 *            servers (fleet-view-codec.ts; absent when the shard has none).
 *            `load` / `smoothed_load` are null when no server is available (the domain's Infinity).
 *
 * Size: ≈ 75 bytes a server plus ≈ 250 of summary. Measured on the fullest shard the hash produces
 * (test/adapters/dynamodb/fleet-view-sizing.test.ts): 2,300 servers / 64 shards → 41 servers, 3.3 KB, one
 * 0.5 RCU eventually consistent read; 5,000 / 64 → 85 servers, 6.6 KB, 1 RCU; one shard of 2,300 would be
 * 171 KB.
 */
import type { FleetMode, FleetState, ShardTotals } from '../../domain/fleet';
import { decodeServers, encodeServers } from './fleet-view-codec';
import { measured, measuredOrNull, whole } from './numbers';

const VIEW_PREFIX = 'VIEW#';
export const viewKey = (shard: number) => `${VIEW_PREFIX}${shard}`;

/** What a worker reads of every other shard's view: its totals, not its servers. */
export const TOTALS_PROJECTION = 'pk, #shard, t_used, t_capacity, t_safe, updated_at';
export const TOTALS_PROJECTION_NAMES = { '#shard': 'shard' };

const FLEET_MODES: ReadonlySet<string> = new Set<FleetMode>(['normal', 'shed_free', 'saturated']);

export function fleetStateToItem(state: FleetState): Record<string, unknown> {
  const optional = (name: string, value: number | undefined) =>
    value === undefined ? {} : { [name]: whole(value, name) };
  const servers = encodeServers(state.servers, state.updatedAt);
  return {
    pk: viewKey(state.shard),
    shard: whole(state.shard, 'shard'),
    mode: state.mode,
    load: measuredOrNull(state.load, 'load'),
    smoothed_load: measuredOrNull(state.smoothedLoad, 'smoothed_load'),
    free_admit_ratio: measured(state.freeAdmitRatio, 'free_admit_ratio'),
    ...optional('no_safe_since', state.noSafeSince),
    ...optional('shed_since', state.shedSince),
    ...optional('below_since', state.belowSince),
    ...optional('free_returns_at', state.freeReturnsAt),
    updated_at: whole(state.updatedAt, 'updated_at'),
    version: whole(state.version, 'version'),
    t_used: measured(state.totals.used, 't_used'),
    t_capacity: measured(state.totals.capacity, 't_capacity'),
    t_safe: whole(state.totals.safeServers, 't_safe'),
    ...(servers === '' ? {} : { servers }),
  };
}

/** The view from its stored item; throws on a malformed one (a reader keeps its last good view). */
export function fleetStateFromItem(item: Record<string, unknown>): FleetState {
  const fail = (message: string): never => {
    throw new Error(`Malformed fleet view item ${String(item.pk)}: ${message}`);
  };
  const number = (name: string) => requiredNumber(item, name, fail);
  const optional = (name: string) => {
    const value = item[name];
    return value === undefined || value === null ? undefined : number(name);
  };
  const infinityOrNumber = (name: string) => (item[name] === null ? Number.POSITIVE_INFINITY : number(name));
  const mode = item.mode;
  if (typeof mode !== 'string' || !FLEET_MODES.has(mode)) fail(`mode ${String(mode)}`);
  const servers = item.servers ?? '';
  if (typeof servers !== 'string') fail('servers is not a string');
  const updatedAt = number('updated_at');
  const noSafeSince = optional('no_safe_since');
  const shedSince = optional('shed_since');
  const belowSince = optional('below_since');
  const freeReturnsAt = optional('free_returns_at');
  return {
    shard: number('shard'),
    totals: shardTotalsFromItem(item),
    mode: mode as FleetMode,
    load: infinityOrNumber('load'),
    smoothedLoad: infinityOrNumber('smoothed_load'),
    freeAdmitRatio: number('free_admit_ratio'),
    ...(noSafeSince === undefined ? {} : { noSafeSince }),
    ...(shedSince === undefined ? {} : { shedSince }),
    ...(belowSince === undefined ? {} : { belowSince }),
    ...(freeReturnsAt === undefined ? {} : { freeReturnsAt }),
    updatedAt,
    version: number('version'),
    servers: decodeOrFail(servers as string, updatedAt, fail),
  };
}

function decodeOrFail(text: string, updatedAt: number, fail: (message: string) => never) {
  try {
    return decodeServers(text, updatedAt);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

export function shardTotalsFromItem(item: Record<string, unknown>): ShardTotals {
  const fail = (message: string): never => {
    throw new Error(`Malformed fleet view totals ${String(item.pk)}: ${message}`);
  };
  return {
    shard: requiredNumber(item, 'shard', fail),
    used: requiredNumber(item, 't_used', fail),
    capacity: requiredNumber(item, 't_capacity', fail),
    safeServers: requiredNumber(item, 't_safe', fail),
    updatedAt: requiredNumber(item, 'updated_at', fail),
  };
}

function requiredNumber(item: Record<string, unknown>, attribute: string, fail: (message: string) => never) {
  const value = item[attribute];
  if (typeof value !== 'number' || !Number.isFinite(value)) return fail(`${attribute} is not a number`);
  return value;
}
