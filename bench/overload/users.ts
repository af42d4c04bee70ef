/**
 * The benchmark's users in the stack's cognito-local: `bench-NNN@example.com`, every tenth one in the
 * `premium` group (10 %), each signed in once for an ID token.
 */

import type { PublicConfig } from '../../contract/public-config';
import { PREMIUM_GROUP } from '../../lib/resources';
import { cognitoLogin, createCognitoUser, LOCAL_PASSWORD } from '../../local/emulators/cognito';

export interface BenchUser {
  readonly email: string;
  readonly premium: boolean;
  readonly idToken: string;
}

export function isPremiumUser(index: number, premiumShare: number): boolean {
  const every = Math.max(1, Math.round(1 / premiumShare));
  return index % every === 0;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index];
      if (item === undefined) continue;
      results[index] = await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function createUsers(
  config: PublicConfig,
  count: number,
  premiumShare: number,
): Promise<BenchUser[]> {
  const endpoint = config.cognitoEndpoint;
  const pool = config.userPoolId;
  const indexes = Array.from({ length: count }, (_, index) => index);
  return inBatches(indexes, 6, async (index) => {
    const email = `bench-${String(index).padStart(3, '0')}@example.com`;
    const premium = isPremiumUser(index, premiumShare);
    await createCognitoUser(endpoint, pool, email, LOCAL_PASSWORD, { premium });
    const tokens = await cognitoLogin(endpoint, config.userPoolClientId, email, LOCAL_PASSWORD);
    return { email, premium, idToken: tokens.idToken };
  });
}

/** The tier the product will see, read back from the token (cognito:groups), to catch a setup mistake. */
export function tokenIsPremium(idToken: string): boolean {
  const payload = idToken.split('.')[1] ?? '';
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const groups = claims['cognito:groups'];
  return Array.isArray(groups) && groups.includes(PREMIUM_GROUP);
}
