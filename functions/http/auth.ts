import { createCognitoTokenVerifier } from '../../adapters/auth/cognito-token-verifier';
import type { Caller } from '../../domain/turn';
import { PREMIUM_GROUP } from '../../lib/resources';
import type { Settings } from '../../settings/settings';
import { logger } from '../commons/logger';
import { type HttpEvent, header } from './event';

export type Authenticate = (event: HttpEvent) => Promise<Caller>;

/** The caller from the verified ID token; the tier comes from its groups, never from the request. */
export function createAuthenticator(settings: Pick<Settings, 'userPoolIssuer' | 'userPoolClientId'>) {
  const verifier = createCognitoTokenVerifier({
    issuer: settings.userPoolIssuer,
    clientId: settings.userPoolClientId,
    premiumGroup: PREMIUM_GROUP,
  });
  const authenticate: Authenticate = async (event) => {
    const caller = await verifier.verify(header(event, 'authorization'));
    logger.appendKeys({ user_id: caller.userId, tier: caller.tier });
    return caller;
  };
  return authenticate;
}
