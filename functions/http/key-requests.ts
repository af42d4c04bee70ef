/** The requests of /chat/keys: POST's optional body, and DELETE's key id in the path. */
import { MAX_API_KEY_NAME_CHARS } from '../../contract/api-keys';
import { DomainError, invalidRequest } from '../../domain/errors';
import type { HttpVerb } from '../../lib/resources';
import { type HttpEvent, parseJsonBody } from './event';
import { CLIENT_ID_PATTERN } from './requests';

const KEYS_PATH = '/chat/keys';
const KEY_PATH = /^\/chat\/keys\/([^/]+)$/;

/** What a /chat/keys request asks: the collection (POST, GET) or one key (DELETE). */
export type KeyRequest =
  | { readonly kind: 'create'; readonly name?: string }
  | { readonly kind: 'list' }
  | { readonly kind: 'revoke'; readonly keyId: string };

export function parseKeyRequest(event: HttpEvent, method: HttpVerb): KeyRequest {
  if (event.rawPath === KEYS_PATH) {
    if (method === 'GET') return { kind: 'list' };
    if (method === 'POST') return { kind: 'create', ...parseCreateBody(event) };
    throw new DomainError('method_not_allowed', `Use GET or POST for ${KEYS_PATH}.`);
  }
  if (method !== 'DELETE') throw new DomainError('method_not_allowed', `Use DELETE for ${event.rawPath}.`);
  const keyId = KEY_PATH.exec(event.rawPath)?.[1];
  if (keyId === undefined || !CLIENT_ID_PATTERN.test(keyId)) {
    throw invalidRequest('The key id must be 1-128 characters of letters, digits, "_" or "-".');
  }
  return { kind: 'revoke', keyId };
}

/** POST's body is optional: none, `{}` or `{"name"}` (whitespace collapsed, 1–100 characters). */
function parseCreateBody(event: HttpEvent): { readonly name?: string } {
  if (event.body === undefined || event.body === '') return {};
  const body = parseJsonBody(event);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const name: unknown = Reflect.get(body, 'name');
  if (name === undefined || name === null) return {};
  if (typeof name !== 'string') throw invalidRequest('"name" must be a string.');
  const collapsed = name.replace(/\s+/g, ' ').trim();
  if (collapsed.length === 0 || collapsed.length > MAX_API_KEY_NAME_CHARS) {
    throw invalidRequest(`"name" must be 1-${MAX_API_KEY_NAME_CHARS} characters.`);
  }
  return { name: collapsed };
}
