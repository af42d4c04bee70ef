import { createApiKey, listApiKeys, revokeApiKey } from '../use-cases/api-keys';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { json } from './http/event';
import { httpHandler } from './http/handler';
import { parseKeyRequest } from './http/key-requests';
import { apiKeyEntry as entry } from './http/key-responses';
import { settings } from './settings';
import { createApiKeyDeps } from './wiring/api-keys';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

const deps = createApiKeyDeps(settings, awsInfrastructure());

/**
 * /chat/keys, for a Cognito ID token only (a key cannot mint keys): POST creates a key (201, the key
 * shown this once), GET lists them, DELETE /chat/keys/{id} revokes one (204; within API_KEY_CACHE_SECONDS
 * everywhere). Keys and names are never logged.
 */
export const { raw: manageKeys, handler } = httpHandler(
  ['POST', 'GET', 'DELETE'],
  { origin: createOriginGuard(settings, awsInfrastructure()), authenticate: createAuthenticator(settings) },
  async (event, caller, method) => {
    const request = parseKeyRequest(event, method);
    if (request.kind === 'create') {
      const { record, key } = await createApiKey(deps, caller, request.name);
      logger.info('API key created', { api_key_id: record.id });
      return json(201, { ...entry(record), key });
    }
    if (request.kind === 'list') {
      const keys = await listApiKeys(deps, caller);
      return json(200, { keys: keys.map(entry) });
    }
    await revokeApiKey(deps, caller, request.keyId);
    logger.info('API key revoked', { api_key_id: request.keyId });
    return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
  },
);
