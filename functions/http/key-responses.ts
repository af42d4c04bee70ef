/** /chat/keys's wire: a key's record as the API lists it (contract/api-keys.ts); never the key or its hash. */
import type { ApiKeyEntry } from '../../contract/api-keys';
import type { ApiKeyRecord } from '../../domain/api-keys';

export const apiKeyEntry = (key: ApiKeyRecord): ApiKeyEntry => ({
  id: key.id,
  name: key.name,
  prefix: key.prefix,
  created_at: key.createdAt,
  ...(key.lastUsedAt ? { last_used_at: key.lastUsedAt } : {}),
});
