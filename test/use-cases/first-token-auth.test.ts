/**
 * A server refusing the fleet's API key before the first token: the key is the fleet's, so no other
 * server is tried (it would refuse too), and operators get one error line naming the server.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/errors';
import type { InferenceServer, ModelClient, ServerSelector } from '../../domain/ports';
import { openFirstToken } from '../../use-cases/first-token';

const servers: InferenceServer[] = [
  { id: 'gpu-a', baseUrl: 'http://gpu-a' },
  { id: 'gpu-b', baseUrl: 'http://gpu-b' },
  { id: 'gpu-c', baseUrl: 'http://gpu-c' },
];

function selector(): ServerSelector {
  return {
    attempts: 3,
    pick: async (exclude) => {
      const next = servers.find((server) => !exclude?.has(server.id));
      if (!next) throw new DomainError('overloaded', 'busy');
      return next;
    },
    overloaded: () => new DomainError('overloaded', 'busy'),
    release: () => undefined,
  };
}

describe('openFirstToken on a refused API key', () => {
  it('fails at once with upstream_auth, tries no other server and logs one error', async () => {
    // Prepare
    const tried: string[] = [];
    const model: ModelClient = {
      stream: async (server) => {
        tried.push(server.id);
        throw new DomainError('upstream_auth', 'The model could not answer.', {
          upstream_status: 401,
          key_renewed: true,
        });
      },
    };
    const errors: unknown[] = [];
    const log = {
      info: () => undefined,
      warn: () => undefined,
      error: (...args: unknown[]) => errors.push(args),
    };

    // Act
    const failure = await openFirstToken(
      { model, log, config: { model: 'm', maxAnswerTokens: 8, firstTokenTimeoutMs: 1000 } },
      {
        messages: [{ role: 'user', content: 'hi' }],
        signal: new AbortController().signal,
        servers: selector(),
        firstServer: servers[0] as InferenceServer,
      },
    ).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'upstream_auth' });
    expect(tried).toEqual(['gpu-a']);
    expect(errors).toEqual([
      ['inference server refused the API key', { server: 'gpu-a', upstream_status: 401, key_renewed: true }],
    ]);
  });
});
