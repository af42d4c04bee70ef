/**
 * History cursors: base64url JSON of the last returned item's key. Opaque to clients, but not
 * secret — so decoding trusts nothing: the shape is checked, and the key must lie in the caller's
 * partition (and the requested conversation), otherwise it is an invalid_request.
 */
import { DomainError } from '../../domain/errors';
import { TURN_PREFIX } from './chat-items';

export interface CursorKey {
  /** Table partition key: the user id. */
  readonly pk: string;
  /** `TURN#<id>`. */
  readonly sk: string;
  /** Index partition key `<user>#<conversation>`, only for conversation queries. */
  readonly conv?: string;
}

/** DynamoDB caps sort keys at 1024 bytes; a base64url JSON of three such keys stays well below this. */
const MAX_CURSOR_LENGTH = 6000;
const MAX_KEY_BYTES = 1024;

export function encodeCursor(key: CursorKey): string {
  const plain =
    key.conv === undefined ? { pk: key.pk, sk: key.sk } : { pk: key.pk, sk: key.sk, conv: key.conv };
  return Buffer.from(JSON.stringify(plain), 'utf8').toString('base64url');
}

export const invalidCursor = () =>
  new DomainError('invalid_request', 'The cursor is not valid for this query.');

/**
 * The JSON object a base64url cursor holds, with no key but `allowed`; anything else (too long, not
 * base64url, not JSON, not an object, a foreign key) is an invalid_request. Values are the caller's to check.
 */
export function decodeCursorRecord(
  cursor: string,
  maxLength: number,
  allowed: readonly string[],
): Record<string, unknown> {
  if (cursor.length === 0 || cursor.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalidCursor();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidCursor();
  const record = parsed as Record<string, unknown>;
  if (Object.keys(record).some((key) => !allowed.includes(key))) throw invalidCursor();
  return record;
}

const isKeyString = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && Buffer.byteLength(value, 'utf8') <= MAX_KEY_BYTES;

/**
 * Decodes a cursor made by encodeCursor for this user and, when given, this conversation key.
 * Throws DomainError('invalid_request') for anything else.
 */
export function decodeCursor(cursor: string, expected: { pk: string; conv?: string }): CursorKey {
  const allowed = expected.conv === undefined ? ['pk', 'sk'] : ['pk', 'sk', 'conv'];
  const record = decodeCursorRecord(cursor, MAX_CURSOR_LENGTH, allowed);
  const { pk, sk, conv } = record;
  if (!isKeyString(pk) || pk !== expected.pk) throw invalidCursor();
  if (!isKeyString(sk) || !sk.startsWith(TURN_PREFIX) || sk.length === TURN_PREFIX.length) {
    throw invalidCursor();
  }
  if (expected.conv === undefined) return { pk, sk };
  if (conv !== expected.conv) throw invalidCursor();
  return { pk, sk, conv: expected.conv };
}
