import { createCognitoTokenVerifier, type TokenVerifier } from '../../adapters/auth/cognito-token-verifier';
import type { Caller } from '../../domain/turn';
import { PREMIUM_GROUP } from '../../lib/resources';
import type { Settings } from '../../settings/settings';
import { addLogScopeKeys } from '../commons/log-scope';
import { type HttpEvent, header } from './event';

export type Authenticate = (event: HttpEvent) => Promise<Caller>;

/** The caller from the verified ID token; the tier comes from its groups, never from the request. */
export function createAuthenticator(settings: Pick<Settings, 'userPoolIssuer' | 'userPoolClientId'>) {
  return authenticatorFor(
    createCognitoTokenVerifier({
      issuer: settings.userPoolIssuer,
      clientId: settings.userPoolClientId,
      premiumGroup: PREMIUM_GROUP,
    }),
  );
}

/** The verified caller, named on every later line of the request (its log scope). */
export function authenticatorFor(verifier: TokenVerifier): Authenticate {
  return async (event) => {
    const caller = await verifier.verify(header(event, 'authorization'));
    addLogScopeKeys({ user_id: caller.userId, tier: caller.tier });
    return caller;
  };
}
