import { DomainError, OVERLOADED_MESSAGE } from '../../domain/errors';
import type { InferenceServer, ServerSelector } from '../../domain/ports';

/** Parses `id=baseUrl,id=baseUrl` (the INFERENCE_SERVERS format). Throws on a malformed list. */
export function parseServerList(value: string): InferenceServer[] {
  const servers = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const separator = entry.indexOf('=');
      const id = entry.slice(0, separator).trim();
      const baseUrl = entry
        .slice(separator + 1)
        .trim()
        .replace(/\/+$/, '');
      if (separator <= 0 || !/^https?:\/\/[^\s]+$/.test(baseUrl)) {
        throw new Error(`Malformed inference server entry "${entry}": expected id=http(s)://host:port`);
      }
      return { id, baseUrl };
    });
  if (servers.length === 0) throw new Error('The inference server list is empty.');
  return servers;
}

/** Spreads prompts over a fixed list at random; load-aware selection replaces it when the fleet table is in use. */
export class RandomServerSelector implements ServerSelector {
  constructor(
    private readonly servers: readonly InferenceServer[],
    private readonly random: () => number = Math.random,
  ) {}

  async pick(exclude: ReadonlySet<string> = new Set()): Promise<InferenceServer> {
    const candidates = this.servers.filter((server) => !exclude.has(server.id));
    const server = candidates[Math.floor(this.random() * candidates.length)];
    if (!server) throw new DomainError('overloaded', OVERLOADED_MESSAGE, { retry_after_seconds: 10 });
    return server;
  }
}
