import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSecret } from '../../../adapters/secrets/secrets-manager-secret';
import type { LocalSecretsManager } from '../../../local/emulators/secrets-manager';
import { startTestSecretsManager, type TestSecretsManager } from '../../support/secrets';

let secrets: TestSecretsManager;
let store: LocalSecretsManager;
let client: SecretsManagerClient;

beforeAll(async () => {
  secrets = await startTestSecretsManager({ 'fleet-key': 'k1', 'origin-secret': 'o1' });
  ({ store, client } = secrets);
});
afterAll(() => secrets.close());

function clockAt(start: number) {
  const clock = { at: start, now: () => clock.at };
  return clock;
}

describe('SecretsManagerSecret', () => {
  it('reads the current value by name or ARN, once, and keeps it until a refresh is due', async () => {
    const clock = clockAt(0);
    const byArn = new SecretsManagerSecret(client, store.arn('fleet-key'), { clock, minRefreshMs: 30_000 });
    expect(await byArn.values()).toEqual(['k1']);
    store.put('fleet-key', 'k2');
    expect(await byArn.values()).toEqual(['k1']);
    clock.at = 29_999;
    expect(await byArn.refresh()).toEqual(['k1']);
    clock.at = 30_000;
    expect(await byArn.refresh()).toEqual(['k2']);
    expect(await byArn.values()).toEqual(['k2']);
  });

  it('accepts the previous value beside the current one during a rotation', async () => {
    const clock = clockAt(0);
    const secret = new SecretsManagerSecret(client, 'origin-secret', { clock, withPrevious: true });
    expect(await secret.values()).toEqual(['o1']);
    store.put('origin-secret', 'o2');
    clock.at = 60_000;
    expect(await secret.refresh()).toEqual(['o2', 'o1']);
  });

  it('fails clearly for a missing secret and does not retry on every call', async () => {
    const clock = clockAt(0);
    const missing = new SecretsManagerSecret(client, 'nope', { clock, retryAfterFailureMs: 1_000 });
    const first = await missing.values().catch((error: unknown) => error);
    expect(first).toMatchObject({ name: 'ResourceNotFoundException' });
    // Within the retry interval the same failure comes back without a call: prove it by creating the
    // secret now, which a call would find.
    store.put('nope', 'late');
    expect(await missing.values().catch((error: unknown) => error)).toBe(first);
    clock.at = 1_000;
    expect(await missing.values()).toEqual(['late']);
  });

  it('keeps a held value when the store is unreachable', async () => {
    const clock = clockAt(0);
    const dead = await startTestSecretsManager({ s: 'v1' });
    const deadClient = dead.client;
    try {
      const secret = new SecretsManagerSecret(deadClient, 's', { clock });
      expect(await secret.values()).toEqual(['v1']);
      await dead.store.close();
      clock.at = 120_000;
      expect(await secret.refresh()).toEqual(['v1']);
      expect(await secret.values()).toEqual(['v1']);
    } finally {
      deadClient.destroy();
    }
  });
});
