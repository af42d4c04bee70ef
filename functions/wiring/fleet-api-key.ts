import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FleetApiKey } from '../../adapters/inference/fleet-api-key';
import {
  createSecretsManagerClient,
  SecretsManagerSecret,
} from '../../adapters/secrets/secrets-manager-secret';
import type { Settings } from '../../settings/settings';

/**
 * The fleet's bearer key for one container (INFERENCE_API_KEY_SECRET_ID): one per container, shared by
 * every request and scrape it makes. Without the setting, no secret client is even built.
 */
export function createFleetApiKey(
  settings: Pick<Settings, 'inferenceApiKeySecretId'>,
  client: () => SecretsManagerClient = createSecretsManagerClient,
): FleetApiKey {
  const secretId = settings.inferenceApiKeySecretId.trim();
  return new FleetApiKey(secretId === '' ? undefined : new SecretsManagerSecret(client(), secretId));
}
