/**
 * The requests of the conversation routes (GET /chat/conversations, PATCH and DELETE
 * /chat/conversations/{id}) parsed and validated; every failure is an invalid_request (400).
 */
import { MAX_CONVERSATION_TITLE_CHARS } from '../../contract/http-api';
import { collapseWhitespace } from '../../domain/conversation';
import { invalidRequest } from '../../domain/errors';
// The same ids POST /chat accepts as `conversation_id`.
import { CLIENT_ID_PATTERN, parsePageQuery } from './requests';

const CONVERSATION_PATH = /^\/chat\/conversations\/([^/]*)$/;

export const CONVERSATIONS_DEFAULT_LIMIT = 50;
export const CONVERSATIONS_MAX_LIMIT = 100;
const MAX_CURSOR_CHARS = 512;

/** The `{id}` of /chat/conversations/{id}. */
export function parseConversationPath(rawPath: string): string {
  const id = CONVERSATION_PATH.exec(rawPath)?.[1];
  if (id === undefined || !CLIENT_ID_PATTERN.test(id)) {
    throw invalidRequest('The conversation id must be 1-128 characters of letters, digits, "_" or "-".');
  }
  return id;
}

/** PATCH's body `{"title"}`: whitespace collapsed, not empty, at most MAX_CONVERSATION_TITLE_CHARS. */
export function parseRenameBody(body: unknown): { readonly title: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalidRequest('The request body must be a JSON object.');
  }
  const raw = (body as Record<string, unknown>).title;
  if (typeof raw !== 'string') throw invalidRequest('"title" must be a string.');
  const title = collapseWhitespace(raw);
  if (title.length === 0) throw invalidRequest('"title" must not be empty.');
  if (Array.from(title).length > MAX_CONVERSATION_TITLE_CHARS) {
    throw invalidRequest(`"title" is longer than the limit of ${MAX_CONVERSATION_TITLE_CHARS} characters.`);
  }
  return { title };
}

/** GET /chat/conversations' query string. */
export function parseConversationListQuery(query: Readonly<Record<string, string | undefined>>): {
  readonly limit: number;
  readonly cursor?: string;
} {
  return parsePageQuery(query, {
    defaultLimit: CONVERSATIONS_DEFAULT_LIMIT,
    maxLimit: CONVERSATIONS_MAX_LIMIT,
    maxCursorChars: MAX_CURSOR_CHARS,
  });
}
