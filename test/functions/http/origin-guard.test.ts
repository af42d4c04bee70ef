import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSecret } from '../../../adapters/secrets/secrets-manager-secret';
import type { Secret } from '../../../domain/ports';
import { OriginGuard } from '../../../functions/http/origin-guard';
import type { LocalSecretsManager } from '../../../local/emulators/secrets-manager';
import { startTestSecretsManager, type TestSecretsManager } from '../../support/secrets';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
let secrets: TestSecretsManager;
let store: LocalSecretsManager;
let client: SecretsManagerClient;

beforeAll(async () => {
  secrets = await startTestSecretsManager({ origin: 'first' });
  ({ store, client } = secrets);
});
afterAll(() => secrets.close());

describe('OriginGuard', () => {
  it('accepts the secret, refuses anything else, and follows a rotation once a refresh is due', async () => {
    const clock = { at: 0, now: () => clock.at };
    const guard = new OriginGuard(
      new SecretsManagerSecret(client, 'origin', { withPrevious: true, clock, minRefreshMs: 30_000 }),
      silent,
    );
    expect(await guard.check('first')).toBe('accepted');
    expect(await guard.check('firs')).toBe('refused');
    expect(await guard.check(undefined)).toBe('refused');

    store.put('origin', 'second');
    expect(await guard.check('second')).toBe('refused');
    clock.at = 30_000;
    expect(await guard.check('second')).toBe('accepted');
    // CloudFront may still send the old value until its deploy finishes.
    expect(await guard.check('first')).toBe('accepted');
  });

  it('lets a request carrying the header through while the store cannot be read, and says so', async () => {
    const errors: string[] = [];
    const unreadable: Secret = {
      values: () => Promise.reject(new Error('connect ETIMEDOUT')),
      refresh: () => Promise.reject(new Error('connect ETIMEDOUT')),
    };
    const guard = new OriginGuard(unreadable, { ...silent, error: (message) => errors.push(message) });
    expect(await guard.check('anything')).toBe('unverified');
    expect(errors).toEqual(['origin_secret_unreadable']);
    // No header is refused without asking the store at all.
    expect(await guard.check(undefined)).toBe('refused');
    expect(errors).toHaveLength(1);
  });
});
