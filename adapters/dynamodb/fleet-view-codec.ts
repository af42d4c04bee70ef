/**
 * The wire format of a shard view's servers: one string attribute, a line per server, fields separated by
 * spaces. A list of maps would repeat every attribute name per server (≈ 3× the bytes); a view is read
 * once per admission, so its size is the admission's read cost (0.5 RCU up to 4 KB, eventually consistent).
 *
 *   <id> <base url> <capacity> <running> <waiting> <kv|-> <completed total|-> <completion rate|-> <flags> <age ms>
 *
 * flags: `h` healthy, `d` draining, `-` neither. age: the view's updated_at minus the server's scrape time.
 * Ids are [A-Za-z0-9_.-] and URLs hold no whitespace (both validated at registration), so a space never
 * appears inside a field.
 */
import type { ServerLoad } from '../../domain/fleet';
import { measured, whole } from './numbers';

const FIELDS = 10;

export function encodeServers(servers: readonly ServerLoad[], viewUpdatedAt: number): string {
  return servers
    .map((server) => {
      if (/\s/.test(server.id) || /\s/.test(server.baseUrl)) {
        throw new RangeError(`Server ${JSON.stringify(server.id)} has whitespace in its id or URL`);
      }
      const optional = (value: number | undefined, name: string, guard = measured) =>
        value === undefined ? '-' : String(guard(value, name));
      const flags = `${server.healthy ? 'h' : ''}${server.draining ? 'd' : ''}` || '-';
      return [
        server.id,
        server.baseUrl,
        whole(server.capacity, 'capacity'),
        measured(server.running, 'running'),
        measured(server.waiting, 'waiting'),
        optional(server.kvCacheUsage, 'kv_cache_usage'),
        // A counter stays exact: the next tick's rate is its growth, and rounding would fake restarts.
        optional(server.completedTotal, 'completed_total', whole),
        optional(server.completionRate, 'completion_rate'),
        flags,
        whole(viewUpdatedAt - server.updatedAt, 'age'),
      ].join(' ');
    })
    .join('\n');
}

export function decodeServers(text: string, viewUpdatedAt: number): ServerLoad[] {
  if (text === '') return [];
  return text.split('\n').map((line, index) => {
    const fields = line.split(' ');
    const fail = (why: string): never => {
      throw new Error(`Malformed fleet view server line ${index + 1}: ${why}`);
    };
    if (fields.length !== FIELDS) fail(`${fields.length} fields, expected ${FIELDS}`);
    const [id = '', baseUrl = '', capacity, running, waiting, kv, completed, rate, flags = '', age] = fields;
    const number = (value: string | undefined, name: string): number => {
      const parsed = Number(value);
      return value === undefined || value === '' || !Number.isFinite(parsed)
        ? fail(`${name} ${value}`)
        : parsed;
    };
    const optional = (value: string | undefined, name: string) =>
      value === '-' ? undefined : number(value, name);
    if (id === '' || baseUrl === '') fail('empty id or URL');
    if (!/^[hd-]+$/.test(flags)) fail(`flags ${flags}`);
    const kvCacheUsage = optional(kv, 'kv');
    const completedTotal = optional(completed, 'completed total');
    const completionRate = optional(rate, 'completion rate');
    return {
      id,
      baseUrl,
      capacity: number(capacity, 'capacity'),
      running: number(running, 'running'),
      waiting: number(waiting, 'waiting'),
      ...(kvCacheUsage === undefined ? {} : { kvCacheUsage }),
      ...(completedTotal === undefined ? {} : { completedTotal }),
      ...(completionRate === undefined ? {} : { completionRate }),
      healthy: flags.includes('h'),
      ...(flags.includes('d') ? { draining: true } : {}),
      updatedAt: viewUpdatedAt - number(age, 'age'),
    };
  });
}
