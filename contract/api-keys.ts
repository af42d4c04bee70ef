/**
 * API keys (`/chat/keys`): for clients that cannot log in to Cognito (CLIs, desktop and third-party chat
 * UIs). A key acts as its owner, with the owner's tier, on `/v1/*` (`Authorization: Bearer <key>`). The
 * key itself is shown once, in POST's 201; afterwards only its prefix.
 */

/** Every key starts with this, so a bearer value is told from a Cognito ID token without a lookup. */
export const API_KEY_PREFIX = 'sk-chat-';

/** Characters of a key shown in the list (the prefix and the first few random ones). */
export const API_KEY_SHOWN_CHARS = 12;

/** Keys a user may hold at once. */
export const MAX_API_KEYS_PER_USER = 10;

/** Longest key name, in characters. */
export const MAX_API_KEY_NAME_CHARS = 100;

/** POST /chat/keys (the body is optional). */
export interface CreateApiKeyBody {
  readonly name?: string;
}

/** A key as listed: never the key itself. Times are ISO-8601 UTC. */
export interface ApiKeyEntry {
  readonly id: string;
  readonly name: string;
  /** The key's first characters, to tell keys apart. */
  readonly prefix: string;
  readonly created_at: string;
  /** When a request last authenticated with it, to the minute (absent: never used). */
  readonly last_used_at?: string;
}

/** POST /chat/keys's 201: the only time the key is shown. */
export interface CreatedApiKeyBody extends ApiKeyEntry {
  readonly key: string;
}

/** GET /chat/keys. */
export interface ApiKeyListBody {
  readonly keys: readonly ApiKeyEntry[];
}
