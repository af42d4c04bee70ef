import { createCognitoTokenVerifier } from '../../adapters/auth/cognito-token-verifier';
import type { Caller } from '../../domain/turn';
import { PREMIUM_GROUP } from '../../lib/resources';
import { getStringFromEnv } from './env';
import { type HttpEvent, header } from './http';
import { logger } from './logger';

const verifier = createCognitoTokenVerifier({
  issuer: getStringFromEnv('USER_POOL_ISSUER'),
  clientId: getStringFromEnv('USER_POOL_CLIENT_ID'),
  premiumGroup: PREMIUM_GROUP,
});

/** The caller from the verified ID token; the tier comes from its groups, never from the request. */
export async function authenticate(event: HttpEvent): Promise<Caller> {
  const caller = await verifier.verify(header(event, 'authorization'));
  logger.appendKeys({ user_id: caller.userId, tier: caller.tier });
  return caller;
}
