import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../domain/errors';
import { keyOrTokenAuthenticator } from '../../../functions/http/api-key-auth';

const event = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as APIGatewayProxyEventV2;

const tokens = async () => ({ userId: 'from-token', tier: 'premium' as const });

describe('keyOrTokenAuthenticator', () => {
  it('sends an sk-chat- bearer to the keys and anything else to the token verifier', async () => {
    const presented: string[] = [];
    const authenticate = keyOrTokenAuthenticator(tokens, {
      callerFor: async (key) => {
        presented.push(key);
        return { userId: 'from-key', tier: 'free', keyId: 'k1' };
      },
    });
    expect(await authenticate(event('Bearer sk-chat-abc'))).toEqual({ userId: 'from-key', tier: 'free' });
    expect(await authenticate(event('Bearer eyJhbGciOi.x.y'))).toEqual({
      userId: 'from-token',
      tier: 'premium',
    });
    expect(presented).toEqual(['sk-chat-abc']);
  });

  it('keeps Cognito tokens working while the key store fails (static stability)', async () => {
    const authenticate = keyOrTokenAuthenticator(tokens, {
      callerFor: async () => {
        throw new DomainError('internal_error', 'down');
      },
    });
    expect((await authenticate(event('Bearer eyJhbGciOi.x.y'))).userId).toBe('from-token');
    await expect(authenticate(event('Bearer sk-chat-abc'))).rejects.toMatchObject({ code: 'internal_error' });
  });

  it('leaves a missing header to the token verifier, which refuses it', async () => {
    const authenticate = keyOrTokenAuthenticator(
      async () => {
        throw new DomainError('unauthorized', 'no token');
      },
      { callerFor: async () => ({ userId: 'x', tier: 'free', keyId: 'k' }) },
    );
    await expect(authenticate(event())).rejects.toMatchObject({ code: 'unauthorized' });
  });
});
