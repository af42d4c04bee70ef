import { bearerToken } from '../../adapters/auth/bearer';
import { API_KEY_PREFIX } from '../../contract/api-keys';
import type { ApiKeyResolver } from '../../use-cases/api-keys';
import { addLogScopeKeys } from '../commons/log-scope';
import type { Authenticate } from './auth';
import { header } from './event';

/**
 * `/v1/*`'s caller: `Authorization: Bearer <API key or Cognito ID token>`. A key is told by its prefix,
 * so a token never waits for (or depends on) the key lookup: if the keys cannot be read, tokens still work.
 */
export function keyOrTokenAuthenticator(
  tokens: Authenticate,
  keys: Pick<ApiKeyResolver, 'callerFor'>,
): Authenticate {
  return async (event) => {
    const bearer = bearerToken(header(event, 'authorization'));
    if (bearer === undefined || !bearer.startsWith(API_KEY_PREFIX)) return tokens(event);
    const { keyId, ...caller } = await keys.callerFor(bearer);
    // The key's id, never the key.
    addLogScopeKeys({ user_id: caller.userId, tier: caller.tier, api_key_id: keyId });
    return caller;
  };
}
