import { DynamoDbApiKeyStore } from '../../adapters/dynamodb/api-key-store';
import type { Settings } from '../../settings/settings';
import { ApiKeyResolver } from '../../use-cases/api-keys';
import { keyOrTokenAuthenticator } from '../http/api-key-auth';
import { createAuthenticator } from '../http/auth';
import type { Infrastructure } from './infrastructure';

/** The API keys of the chat table, and what the key routes need besides (clock, log). */
export function createApiKeyDeps(settings: Pick<Settings, 'chatTableName'>, infrastructure: Infrastructure) {
  const { documentClient, clock, log } = infrastructure;
  return { store: new DynamoDbApiKeyStore(documentClient, settings.chatTableName), clock, log };
}

/** `/v1/*`'s authenticator: an API key (cached per container) or a Cognito ID token. */
export function createKeyOrTokenAuthenticator(
  settings: Pick<Settings, 'chatTableName' | 'apiKeyCacheSeconds' | 'userPoolIssuer' | 'userPoolClientId'>,
  infrastructure: Infrastructure,
) {
  const keys = new ApiKeyResolver({
    ...createApiKeyDeps(settings, infrastructure),
    cacheMs: settings.apiKeyCacheSeconds * 1000,
  });
  return keyOrTokenAuthenticator(createAuthenticator(settings), keys);
}
