import {
  createSecretsManagerClient,
  SecretsManagerSecret,
} from '../../adapters/secrets/secrets-manager-secret';
import type { Settings } from '../../settings/settings';
import { OriginGuard } from '../http/origin-guard';
import type { Infrastructure } from './infrastructure';

/**
 * The origin check of an HTTP function. The secret's first read starts now, during the container's
 * init, so the first request does not wait for Secrets Manager.
 */
export function createOriginGuard(
  settings: Pick<Settings, 'originSecretId'>,
  infrastructure: Pick<Infrastructure, 'clock' | 'log'>,
): OriginGuard {
  const secret = new SecretsManagerSecret(createSecretsManagerClient(), settings.originSecretId, {
    withPrevious: true,
    clock: infrastructure.clock,
  });
  secret.values().catch(() => undefined);
  return new OriginGuard(secret, infrastructure.log);
}
