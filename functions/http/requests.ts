/**
 * The HTTP requests of the four routes, parsed and validated into the use cases' inputs
 * (domain/chat-request.ts): body, query string and headers. Every failure is an invalid_request (400).
 */
import { CHAT_HEADERS } from '../../contract/http-api';
import type { ChatRequest, HistoryRequest, StoreRequest } from '../../domain/chat-request';
import { invalidRequest } from '../../domain/errors';
import { type HttpEvent, header, parseJsonBody, query } from './event';

/** Identifiers the client may supply (conversation ids, store ids, idempotency keys). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** The `Idempotency-Key` header: optional, and when present 1-128 safe characters (UUIDs fit). */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!CLIENT_ID_PATTERN.test(value)) {
    throw invalidRequest('"Idempotency-Key" must be 1-128 characters of letters, digits, "_" or "-".');
  }
  return value;
}

/** The `x-retry-attempt` header: absent means a first attempt. */
export function parseRetryAttempt(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,4}$/.test(value)) throw invalidRequest('"x-retry-attempt" must be a whole number.');
  return Number(value);
}

export interface RequestLimits {
  /** Longest prompt accepted, in characters (MAX_PROMPT_CHARS). */
  readonly maxPromptChars: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function requireRecord(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw invalidRequest('The request body must be a JSON object.');
  return body;
}

function optionalClientId(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !CLIENT_ID_PATTERN.test(value)) {
    throw invalidRequest(`"${field}" must be 1-128 characters of letters, digits, "_" or "-".`);
  }
  return value;
}

function requiredText(body: Record<string, unknown>, field: string, maxChars: number): string {
  const value = body[field];
  if (typeof value !== 'string') throw invalidRequest(`"${field}" must be a string.`);
  if (value.trim().length === 0) throw invalidRequest(`"${field}" must not be empty.`);
  if (value.length > maxChars) {
    throw invalidRequest(`"${field}" is longer than the limit of ${maxChars} characters.`);
  }
  return value;
}

/** POST /chat: the JSON body, `?stream=true`, and the `x-retry-attempt` and `Idempotency-Key` headers. */
export function parseChatHttpRequest(event: HttpEvent, limits: RequestLimits): ChatRequest {
  return {
    ...parseChatRequest(parseJsonBody(event), query(event).stream === 'true', limits),
    retryAttempt: parseRetryAttempt(header(event, CHAT_HEADERS.retryAttempt)),
    idempotencyKey: parseIdempotencyKey(header(event, CHAT_HEADERS.idempotencyKey)),
  };
}

/** POST /chat's body. `streamFromQuery` is the `?stream=true` switch, which wins over the body. */
export function parseChatRequest(
  body: unknown,
  streamFromQuery: boolean,
  limits: RequestLimits,
): ChatRequest {
  const record = requireRecord(body);
  const prompt = requiredText(record, 'prompt', limits.maxPromptChars);
  const stream = record.stream;
  if (stream !== undefined && typeof stream !== 'boolean')
    throw invalidRequest('"stream" must be a boolean.');
  const conversationId = optionalClientId(record, 'conversation_id');
  const regenerateOf = optionalClientId(record, 'regenerate_of');
  const editOf = optionalClientId(record, 'edit_of');
  if (regenerateOf && editOf) throw invalidRequest('Send "regenerate_of" or "edit_of", not both.');
  if ((regenerateOf || editOf) && !conversationId) {
    throw invalidRequest(
      `"${regenerateOf ? 'regenerate_of' : 'edit_of'}" needs the turn's "conversation_id".`,
    );
  }
  const of = regenerateOf ?? editOf;
  return {
    prompt,
    stream: streamFromQuery || stream === true,
    ...(conversationId ? { conversationId } : {}),
    ...(of ? { revises: { kind: regenerateOf ? 'regeneration' : 'edit', of } } : {}),
  };
}

/** POST /chat/store. An answer may be long: it is bounded by the same size as an item allows. */
export function parseStoreRequest(
  body: unknown,
  limits: RequestLimits & { maxAnswerChars: number },
): StoreRequest {
  const record = requireRecord(body);
  const userMessage = requiredText(record, 'user_message', limits.maxPromptChars);
  const answer = record.assistant_response;
  if (typeof answer !== 'string') throw invalidRequest('"assistant_response" must be a string.');
  if (answer.length > limits.maxAnswerChars) {
    throw invalidRequest(
      `"assistant_response" is longer than the limit of ${limits.maxAnswerChars} characters.`,
    );
  }
  const id = optionalClientId(record, 'id');
  const conversationId = optionalClientId(record, 'conversation_id');
  let timestamp: number | undefined;
  if (record.timestamp !== undefined && record.timestamp !== null) {
    const parsed = typeof record.timestamp === 'string' ? Date.parse(record.timestamp) : Number.NaN;
    if (!Number.isFinite(parsed) || parsed < 0) {
      throw invalidRequest('"timestamp" must be an ISO-8601 date-time string.');
    }
    timestamp = parsed;
  }
  return {
    userMessage,
    assistantResponse: answer,
    ...(id ? { id } : {}),
    ...(conversationId ? { conversationId } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
  };
}

/** POST /chat/stop. */
export function parseStopRequest(body: unknown): { messageId: string } {
  const messageId = requireRecord(body).message_id;
  if (typeof messageId !== 'string' || !CLIENT_ID_PATTERN.test(messageId)) {
    throw invalidRequest('"message_id" must be the id of one of your turns.');
  }
  return { messageId };
}

export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 100;

/** A paged GET's `limit` (1 to `maxLimit`, default `defaultLimit`) and opaque `cursor` (checked by its decoder). */
export function parsePageQuery(
  query: Readonly<Record<string, string | undefined>>,
  bounds: { readonly defaultLimit: number; readonly maxLimit: number; readonly maxCursorChars: number },
): { readonly limit: number; readonly cursor?: string } {
  let limit = bounds.defaultLimit;
  if (query.limit !== undefined) {
    if (!/^\d{1,4}$/.test(query.limit)) throw invalidRequest('"limit" must be a whole number.');
    limit = Number(query.limit);
    if (limit < 1 || limit > bounds.maxLimit) {
      throw invalidRequest(`"limit" must be between 1 and ${bounds.maxLimit}.`);
    }
  }
  const cursor = query.cursor;
  if (cursor !== undefined && (cursor.length === 0 || cursor.length > bounds.maxCursorChars)) {
    throw invalidRequest('"cursor" is not valid.');
  }
  return { limit, ...(cursor ? { cursor } : {}) };
}

/** GET /chat/history query string. */
export function parseHistoryRequest(query: Readonly<Record<string, string | undefined>>): HistoryRequest {
  const { limit, cursor } = parsePageQuery(query, {
    defaultLimit: HISTORY_DEFAULT_LIMIT,
    maxLimit: HISTORY_MAX_LIMIT,
    maxCursorChars: 2048,
  });
  const conversationId = optionalClientId(query, 'conversation_id');
  return { limit, ...(cursor ? { cursor } : {}), ...(conversationId ? { conversationId } : {}) };
}
