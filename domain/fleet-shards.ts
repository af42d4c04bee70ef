/**
 * How the fleet is cut into shards, so that no item, partition or loop grows with the fleet.
 *
 * - A server belongs to one of REGISTRY_BUCKETS buckets, by a hash of its id: its registry item lives
 *   in that bucket's partition (a fixed number, so the registry's partitions do not grow either).
 * - A heartbeat worker owns one shard of FLEET_SHARDS; shard k owns every bucket b with b % shards = k.
 *   The shard count divides the bucket count, so a server's shard is simply bucketOf(id) % shards.
 * - Each worker scrapes only its shard's servers and writes one view item for it (VIEW#k); a chat
 *   container reads one shard's view per admission, never the whole fleet.
 */

/** Registry partitions. Fixed: FLEET_SHARDS must divide it. */
export const REGISTRY_BUCKETS = 64;

/** FNV-1a (32 bit): stable across processes and runtimes, cheap, evenly spread for short ids. */
export function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % REGISTRY_BUCKETS;
}

export function shardOf(id: string, shards: number): number {
  return bucketOf(id) % shards;
}

/** The registry buckets heartbeat shard `shard` of `shards` reads. */
export function bucketsOfShard(shard: number, shards: number): number[] {
  const buckets: number[] = [];
  for (let bucket = shard; bucket < REGISTRY_BUCKETS; bucket += shards) buckets.push(bucket);
  return buckets;
}

/** Throws unless `shards` is a power of two dividing REGISTRY_BUCKETS (1, 2, 4 … 64). */
export function validateShardCount(shards: number): number {
  if (!Number.isInteger(shards) || shards < 1 || REGISTRY_BUCKETS % shards !== 0) {
    throw new Error(`The fleet shard count must divide ${REGISTRY_BUCKETS} (1, 2, 4 … 64), got ${shards}.`);
  }
  return shards;
}

export function validateShard(shard: number, shards: number): number {
  if (!Number.isInteger(shard) || shard < 0 || shard >= shards) {
    throw new Error(`The heartbeat shard must be an integer in [0, ${shards}), got ${shard}.`);
  }
  return shard;
}
