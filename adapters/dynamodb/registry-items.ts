/**
 * The items of the server registry table (serverRegistryTable in lib/resources.ts):
 *
 *   bucket = BUCKET#<bucketOf(id)> (partition), id (sort), base_url, capacity, status ('active' |
 *   'draining'), updated_at (epoch ms of the last put or status change).
 *
 * Both directions obey the registration rules (domain/server-registration.ts): a server that breaks one is
 * refused on the way in, and an item that breaks one (e.g. written by hand) is reported on the way out.
 */
import { bucketOf } from '../../domain/fleet-shards';
import type { RegisteredServer } from '../../domain/ports';
import { InvalidServerRegistration, parseServerRegistration } from '../../domain/server-registration';

const BUCKET_PREFIX = 'BUCKET#';
export const bucketKey = (bucket: number) => `${BUCKET_PREFIX}${bucket}`;
/** The key of server `id`'s item: its bucket follows from the id. */
export const registryKey = (id: string) => ({ bucket: bucketKey(bucketOf(id)), id });

export const REGISTRY_STATUSES: ReadonlySet<string> = new Set<RegisteredServer['status']>([
  'active',
  'draining',
]);

export interface RegistryItem {
  readonly bucket: string;
  readonly id: string;
  readonly base_url: string;
  readonly capacity: number;
  readonly status: RegisteredServer['status'];
  readonly updated_at: number;
}

/** The item for `server`; throws InvalidServerRegistration if the server breaks a registration rule. */
export function toRegistryItem(server: RegisteredServer, now: number): RegistryItem {
  const { id, baseUrl, capacity } = parseServerRegistration(server.id, server.baseUrl, server.capacity);
  if (id !== server.id) throw new InvalidServerRegistration('the id has surrounding spaces');
  if (!REGISTRY_STATUSES.has(server.status))
    throw new InvalidServerRegistration(`unknown status ${server.status}`);
  return {
    bucket: bucketKey(bucketOf(id)),
    id,
    base_url: baseUrl,
    capacity,
    status: server.status,
    updated_at: now,
  };
}

/** The server an item holds, or the reason it is not a valid one. */
export function fromRegistryItem(
  item: Record<string, unknown>,
): RegisteredServer | { readonly reason: string } {
  const { bucket, id, base_url: baseUrl, capacity, status } = item;
  if (typeof id !== 'string') return { reason: 'no string id' };
  if (typeof baseUrl !== 'string') return { reason: 'no string base_url' };
  if (typeof capacity !== 'number') return { reason: 'no numeric capacity' };
  if (typeof status !== 'string' || !REGISTRY_STATUSES.has(status))
    return { reason: 'status is not active or draining' };
  let parsed: ReturnType<typeof parseServerRegistration>;
  try {
    parsed = parseServerRegistration(id, baseUrl, capacity);
  } catch (error) {
    if (error instanceof InvalidServerRegistration) return { reason: error.message };
    throw error;
  }
  if (parsed.id !== id) return { reason: 'the id has surrounding spaces' };
  if (bucket !== bucketKey(bucketOf(id))) return { reason: `the id belongs in ${bucketKey(bucketOf(id))}` };
  return { ...parsed, status: status as RegisteredServer['status'] };
}
