/**
 * For tests: the local Secrets Manager (local/emulators/secrets-manager.ts) on a random loopback port,
 * with an SDK client pointed at it.
 *
 *   let secrets: TestSecretsManager;
 *   beforeAll(async () => { secrets = await startTestSecretsManager({ 'fleet-key': 'k1' }); });
 *   afterAll(() => secrets.close());
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type LocalSecretsManager, startSecretsManager } from '../../local/emulators/secrets-manager';

export interface TestSecretsManager {
  readonly store: LocalSecretsManager;
  /** One attempt per call: a test of failures sees them at once. */
  readonly client: SecretsManagerClient;
  close(): Promise<void>;
}

export async function startTestSecretsManager(
  secrets: Readonly<Record<string, string>> = {},
): Promise<TestSecretsManager> {
  const store = await startSecretsManager({ secrets });
  const client = new SecretsManagerClient({
    endpoint: store.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  return {
    store,
    client,
    async close() {
      client.destroy();
      await store.close();
    },
  };
}
