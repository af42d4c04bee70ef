/**
 * The registry's key design at 5,000 servers, computed with DynamoDB's item-size rules: an item is the
 * sum of its attribute names and values (strings: UTF-8 bytes; numbers: 1 byte per two significant digits
 * plus 1). A write is billed per started KB, a Query reads at most 1 MB per page and is billed per 4 KB of
 * the items it reads (half for an eventually consistent read).
 */
import { describe, expect, it } from 'vitest';
import { type RegistryItem, toRegistryItem } from '../../../adapters/dynamodb/registry-items';
import { REGISTRY_BUCKETS } from '../../../domain/fleet-shards';
import {
  MAX_SERVER_CAPACITY,
  MAX_SERVER_ID_LENGTH,
  MAX_SERVER_URL_LENGTH,
} from '../../../domain/server-registration';

const FLEET = 5_000;
const KB = 1024;
const NOW = 1_750_000_000_000;

function numberBytes(value: number): number {
  const digits = String(Math.abs(value)).replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

function itemBytes(item: RegistryItem): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name, 'utf8');
    bytes += typeof value === 'number' ? numberBytes(value) : Buffer.byteLength(String(value), 'utf8');
  }
  return bytes;
}

/** Bytes per bucket partition. */
function partitions(items: readonly RegistryItem[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const item of items) sizes.set(item.bucket, (sizes.get(item.bucket) ?? 0) + itemBytes(item));
  return sizes;
}

const realistic = Array.from({ length: FLEET }, (_, i) => {
  const id = `gpu-${String(i + 1).padStart(5, '0')}`;
  return toRegistryItem(
    { id, baseUrl: `https://${id}.us-east-1.inference.internal:8000`, capacity: 64, status: 'active' },
    NOW,
  );
});

// The largest item any valid registration can make (the id counts twice: sort key and, in the URL, host).
const worst = Array.from({ length: FLEET }, (_, i) => {
  const id = `${String(i).padStart(6, '0')}${'x'.repeat(MAX_SERVER_ID_LENGTH - 6)}`;
  const baseUrl = `https://${'h'.repeat(MAX_SERVER_URL_LENGTH - 'https://'.length - 6)}:${String(i).padStart(5, '0')}`;
  return toRegistryItem({ id, baseUrl, capacity: MAX_SERVER_CAPACITY, status: 'draining' }, NOW);
});

describe('server registry sizing at 5,000 servers', () => {
  it('spreads realistic ids over all 64 buckets, none holding more than twice its share', () => {
    const counts = new Map<string, number>();
    for (const item of realistic) counts.set(item.bucket, (counts.get(item.bucket) ?? 0) + 1);

    expect(counts.size).toBe(REGISTRY_BUCKETS);
    expect(Math.max(...counts.values())).toBeLessThan((2 * FLEET) / REGISTRY_BUCKETS);
  });

  it('keeps each realistic item far below 1 KB (one write unit) and each bucket Query under 100 KB', () => {
    const sizes = partitions(realistic);
    const largestItem = Math.max(...realistic.map(itemBytes));
    const largestPartition = Math.max(...sizes.values());
    // Eventually consistent: 0.5 read unit per started 4 KB, per bucket Query.
    const readUnitsPerListing = [...sizes.values()].reduce(
      (sum, bytes) => sum + Math.ceil(bytes / 4096) * 0.5,
      0,
    );

    expect(largestItem).toBeLessThan(KB);
    expect(largestItem).toBeLessThan(150);
    expect(largestPartition).toBeLessThan(100 * KB);
    expect(largestPartition).toBeLessThan(20 * KB);
    // The whole fleet listed once (all shards of one heartbeat round): about a hundred read units.
    expect(readUnitsPerListing).toBeLessThanOrEqual(2 * REGISTRY_BUCKETS);
  });

  it('keeps even the largest valid item under 1 KB, and its fullest bucket in one 1 MB Query page', () => {
    const sizes = partitions(worst);
    const largestItem = Math.max(...worst.map(itemBytes));

    expect(largestItem).toBeGreaterThan(MAX_SERVER_ID_LENGTH + MAX_SERVER_URL_LENGTH);
    expect(largestItem).toBeLessThan(KB);
    expect(Math.max(...sizes.values())).toBeLessThan(1024 * KB);
    // Even then a bucket stays within a tenth of a Query page, so the heartbeat reads it in one request.
    expect(Math.max(...sizes.values())).toBeLessThan(100 * KB);
  });
});
