/**
 * Conversation list cursors: base64url JSON of the last returned conversation's position (its activity time
 * and id). Not a key: the listing is one Query of the caller's own partition sorted in memory, so a cursor
 * can only say where in that order to resume, and one forged or taken from another user reveals nothing.
 * Decoding still trusts nothing: anything but a well-formed position is an invalid_request.
 */
import type { ConversationPosition } from '../../domain/conversation';
import { decodeCursorRecord, invalidCursor } from './cursor';

const MAX_CURSOR_LENGTH = 512;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

export function encodeConversationCursor(position: ConversationPosition): string {
  return Buffer.from(JSON.stringify({ u: position.updatedAt, i: position.id }), 'utf8').toString('base64url');
}

export function decodeConversationCursor(cursor: string): ConversationPosition {
  const record = decodeCursorRecord(cursor, MAX_CURSOR_LENGTH, ['u', 'i']);
  const { u, i } = record;
  if (typeof u !== 'string' || !ISO_INSTANT.test(u) || typeof i !== 'string' || !ID.test(i)) {
    throw invalidCursor();
  }
  return { updatedAt: u, id: i };
}
