import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PublicConfig } from '../../../contract/public-config';
import { Api } from '../../../web/src/api';
import type { Session } from '../../../web/src/auth';

const config: PublicConfig = {
  region: 'us-east-1',
  userPoolId: 'pool',
  userPoolClientId: 'client',
  cognitoEndpoint: 'http://127.0.0.1:9/',
};

/** An unsigned JWT-shaped token: the client only reads claims, the server verifies. */
function token(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none' })}.${encode(claims)}.sig`;
}

function session(expiresInSeconds: number): Session {
  const exp = Math.floor(Date.now() / 1000) + expiresInSeconds;
  return {
    idToken: token({ exp, email: 'a@example.com' }),
    refreshToken: 'refresh-1',
    expiresAt: exp * 1000,
    email: 'a@example.com',
    tier: 'free',
  };
}

function cognitoAnswer(expiresInSeconds: number): Response {
  const exp = Math.floor(Date.now() / 1000) + expiresInSeconds;
  return Response.json({
    AuthenticationResult: {
      IdToken: token({ exp, email: 'a@example.com', 'cognito:groups': ['premium'] }),
      ExpiresIn: expiresInSeconds,
    },
  });
}

describe('Api', () => {
  const fetchMock = vi.fn<typeof fetch>();

  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('fetch', fetchMock);
  });

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
    fetchMock.mockReset();
  });

  it('refreshes the ID token two minutes before it expires', async () => {
    // Prepare
    fetchMock.mockResolvedValue(cognitoAnswer(3600));
    const api = new Api(config, session(600), () => undefined);

    // Act
    await vi.advanceTimersByTimeAsync(470_000);
    const before = fetchMock.mock.calls.length;
    await vi.advanceTimersByTimeAsync(15_000);

    // Assess
    expect(before).toBe(0);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] ?? [];
    expect(url).toBe(config.cognitoEndpoint);
    expect(new Headers(init?.headers).get('x-amz-target')).toBe(
      'AWSCognitoIdentityProviderService.InitiateAuth',
    );
    expect(JSON.parse(String(init?.body))).toEqual({
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: 'client',
      AuthParameters: { REFRESH_TOKEN: 'refresh-1' },
    });
    expect(api.session.tier).toBe('premium');
    expect(api.session.refreshToken).toBe('refresh-1');
    api.dispose();
  });

  it('on a 401 refreshes once and retries once with the new token', async () => {
    // Prepare
    fetchMock
      .mockResolvedValueOnce(new Response('{}', { status: 401 }))
      .mockResolvedValueOnce(cognitoAnswer(3600))
      .mockResolvedValueOnce(Response.json({ chats: [] }));
    const api = new Api(config, session(3600), () => undefined);

    // Act
    const page = await api.history({ limit: 5 });

    // Assess
    expect(page).toEqual({ chats: [] });
    const authorizations = fetchMock.mock.calls
      .filter(([url]) => String(url).startsWith('/chat/history'))
      .map(([, init]) => new Headers(init?.headers).get('authorization'));
    expect(authorizations).toEqual([`Bearer ${session(3600).idToken}`, `Bearer ${api.session.idToken}`]);
    expect(authorizations[0]).not.toBe(authorizations[1]);
    api.dispose();
  });

  it('ends the session when Cognito refuses the refresh token', async () => {
    // Prepare
    fetchMock
      .mockResolvedValueOnce(new Response('{}', { status: 401 }))
      .mockResolvedValueOnce(
        Response.json(
          { __type: 'NotAuthorizedException', message: 'Refresh Token has expired' },
          { status: 400 },
        ),
      );
    const signedOut = vi.fn();
    const api = new Api(config, session(3600), signedOut);

    // Act
    const result = api.history({});

    // Assess
    await expect(result).rejects.toThrow('Refresh Token has expired');
    expect(signedOut).toHaveBeenCalledWith('Your session has expired. Please log in again.');
  });
});
