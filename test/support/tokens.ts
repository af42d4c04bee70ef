/**
 * Mints ID tokens with cognito-local's own signing key (it ships in the package), so tests can present
 * tokens that are correctly signed yet expired or from another issuer, which a login never returns.
 */
import { createPrivateKey, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo-root';

const keyFile = join(REPO_ROOT, 'node_modules/cognito-local/lib/keys/cognitoLocal.private.json');

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function signLocalToken(claims: Record<string, unknown>): string {
  const { pem } = JSON.parse(readFileSync(keyFile, 'utf8')) as { pem: string };
  const key = createPrivateKey(pem);
  const header = base64url(JSON.stringify({ alg: 'RS256', kid: 'CognitoLocal', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${base64url(signature)}`;
}

/** A token's claims, unverified. */
export function claimsOf(idToken: string): Record<string, unknown> {
  const payload = idToken.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The claims of a real token with some replaced (undefined removes one), signed again. */
export function reissue(idToken: string, changes: Record<string, unknown>): string {
  return signLocalToken({ ...claimsOf(idToken), ...changes });
}
