import { JwtRsaVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { DomainError } from '../../domain/errors';
import type { Caller } from '../../domain/turn';
import { bearerToken } from './bearer';

export interface TokenVerifier {
  /** The caller behind an `Authorization: Bearer <Cognito ID token>` header; throws unauthorized. */
  verify(authorization: string | undefined): Promise<Caller>;
}

export interface CognitoTokenVerifierOptions {
  /** `https://cognito-idp.<region>.amazonaws.com/<poolId>` on AWS; cognito-local's own issuer locally. */
  readonly issuer: string;
  readonly clientId: string;
  readonly premiumGroup: string;
}

/** Clock skew allowed between Cognito and this function for `iat` / `auth_time`. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * What the library leaves open, closed: Cognito ID tokens always carry `exp`, a single `aud` (our client)
 * and `iat` / `auth_time` in the past. A correctly signed token that differs was not minted by the pool
 * for us, or was minted by a clock we must not trust.
 */
function checkClaims(payload: Record<string, unknown>, clientId: string, nowMs: number): void {
  if (payload.token_use !== 'id') throw new Error('not an ID token');
  if (typeof payload.exp !== 'number') throw new Error('no expiry');
  const aud = payload.aud;
  if (Array.isArray(aud) && (aud.length !== 1 || aud[0] !== clientId)) throw new Error('foreign audience');
  const latest = nowMs / 1000 + CLOCK_SKEW_SECONDS;
  for (const claim of ['iat', 'auth_time'] as const) {
    const value = payload[claim];
    if (value !== undefined && (typeof value !== 'number' || value > latest)) throw new Error(`bad ${claim}`);
  }
}

/**
 * Verifies Cognito ID tokens (signature via the pool's JWKS, issuer, audience, expiry, token_use, and
 * the claims checkClaims adds).
 * The JWKS is fetched with plain fetch because aws-jwt-verify's own fetcher refuses http:// URIs,
 * which cognito-local serves; on AWS the issuer is https and the same code path runs.
 */
export function createCognitoTokenVerifier(options: CognitoTokenVerifierOptions): TokenVerifier {
  const jwksCache = new SimpleJwksCache({
    fetcher: {
      fetch: async (uri: string) => {
        const response = await fetch(uri, { signal: AbortSignal.timeout(3000) });
        if (!response.ok) throw new Error(`JWKS fetch failed with ${response.status}`);
        return response.arrayBuffer();
      },
    },
  });
  const verifier = JwtRsaVerifier.create(
    {
      issuer: options.issuer,
      audience: options.clientId,
      jwksUri: `${options.issuer}/.well-known/jwks.json`,
      customJwtCheck: ({ payload }) => checkClaims(payload, options.clientId, Date.now()),
    },
    { jwksCache },
  );

  return {
    async verify(authorization) {
      const token = bearerToken(authorization);
      if (!token) throw new DomainError('unauthorized', 'Send "Authorization: Bearer <ID token>".');
      let payload: Awaited<ReturnType<typeof verifier.verify>>;
      try {
        payload = await verifier.verify(token);
      } catch (error) {
        const expired = error instanceof Error && error.name === 'JwtExpiredError';
        throw new DomainError('unauthorized', expired ? 'The token has expired.' : 'The token is not valid.');
      }
      const groups = payload['cognito:groups'];
      const premium = Array.isArray(groups) && groups.includes(options.premiumGroup);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
        throw new DomainError('unauthorized', 'The token has no subject.');
      }
      return { userId: payload.sub, tier: premium ? 'premium' : 'free' };
    },
  };
}
