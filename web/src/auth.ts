import type { PublicConfig } from '../../contract/public-config';
import type { Tier } from '../../contract/turn';

export interface Session {
  readonly idToken: string;
  readonly refreshToken: string;
  /** Epoch ms at which the ID token expires. */
  readonly expiresAt: number;
  readonly email: string;
  readonly tier: Tier;
}

const STORAGE_KEY = 'chat.session';

/** A Cognito refusal (wrong password, revoked refresh token): the user has to log in again. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    message: string,
    /** Cognito's exception name (UserNotConfirmedException…), when it gave one. */
    readonly type = '',
  ) {
    super(message);
  }
}

export async function loadConfig(): Promise<PublicConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  const body: unknown = await response.json();
  if (!isRecord(body)) throw new Error('config.json is not an object');
  const { region, userPoolId, userPoolClientId, cognitoEndpoint } = body;
  if (
    typeof region !== 'string' ||
    typeof userPoolId !== 'string' ||
    typeof userPoolClientId !== 'string' ||
    typeof cognitoEndpoint !== 'string'
  ) {
    throw new Error('config.json is missing a field');
  }
  return { region, userPoolId, userPoolClientId, cognitoEndpoint };
}

/** Claims of an ID token, read for display and scheduling only: the server verifies the signature. */
export function readClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (payload === undefined) throw new AuthError('Malformed token');
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) =>
    c.charCodeAt(0),
  );
  const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (!isRecord(claims)) throw new AuthError('Malformed token');
  return claims;
}

export function tierOf(claims: Record<string, unknown>): Tier {
  const groups = claims['cognito:groups'];
  return Array.isArray(groups) && groups.includes('premium') ? 'premium' : 'free';
}

function sessionFromTokens(idToken: string, refreshToken: string, expiresIn: number): Session {
  const claims = readClaims(idToken);
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Date.now() + expiresIn * 1000;
  const email =
    typeof claims.email === 'string'
      ? claims.email
      : typeof claims['cognito:username'] === 'string'
        ? claims['cognito:username']
        : '';
  return { idToken, refreshToken, expiresAt: exp, email, tier: tierOf(claims) };
}

async function initiateAuth(
  config: PublicConfig,
  flow: 'USER_PASSWORD_AUTH' | 'REFRESH_TOKEN_AUTH',
  parameters: Record<string, string>,
): Promise<{ IdToken: string; RefreshToken?: string; ExpiresIn: number }> {
  const response = await fetch(config.cognitoEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({ AuthFlow: flow, ClientId: config.userPoolClientId, AuthParameters: parameters }),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const message = isRecord(body) && typeof body.message === 'string' ? body.message : undefined;
    const type = isRecord(body) && typeof body.__type === 'string' ? body.__type.split('#').pop() : '';
    if (response.status === 400) throw new AuthError(message ?? 'Login failed.', type);
    throw new Error(message ?? `Sign-in service error (HTTP ${response.status}).`);
  }
  const result = isRecord(body) ? body.AuthenticationResult : undefined;
  if (!isRecord(result) || typeof result.IdToken !== 'string') {
    throw new AuthError('This account needs a step the web client does not support.');
  }
  return {
    IdToken: result.IdToken,
    ...(typeof result.RefreshToken === 'string' ? { RefreshToken: result.RefreshToken } : {}),
    ExpiresIn: typeof result.ExpiresIn === 'number' ? result.ExpiresIn : 3600,
  };
}

export async function logIn(config: PublicConfig, email: string, password: string): Promise<Session> {
  const result = await initiateAuth(config, 'USER_PASSWORD_AUTH', { USERNAME: email, PASSWORD: password });
  if (result.RefreshToken === undefined) throw new AuthError('Login failed: no refresh token.');
  return sessionFromTokens(result.IdToken, result.RefreshToken, result.ExpiresIn);
}

export async function refresh(config: PublicConfig, session: Session): Promise<Session> {
  const result = await initiateAuth(config, 'REFRESH_TOKEN_AUTH', { REFRESH_TOKEN: session.refreshToken });
  // REFRESH_TOKEN_AUTH does not rotate the refresh token unless rotation is on.
  return sessionFromTokens(result.IdToken, result.RefreshToken ?? session.refreshToken, result.ExpiresIn);
}

export function saveSession(session: Session | undefined): void {
  try {
    if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled (private mode): the session lives for this page only.
  }
}

export function restoreSession(): Session | undefined {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (raw === null) return undefined;
    const value: unknown = JSON.parse(raw);
    if (
      isRecord(value) &&
      typeof value.idToken === 'string' &&
      typeof value.refreshToken === 'string' &&
      typeof value.expiresAt === 'number'
    ) {
      return sessionFromTokens(value.idToken, value.refreshToken, (value.expiresAt - Date.now()) / 1000);
    }
  } catch {
    // A corrupt entry is the same as none.
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
