/**
 * `POST /v1/chat/completions`' request, parsed and validated into POST /chat's use-case input
 * (domain/chat-request.ts): the last message is the prompt, the ones before it the client's own context.
 * Every failure is a 400 (a model not served: 404) naming the offending field in `param`.
 */
import { CHAT_HEADERS } from '../../../contract/http-api';
import { OPENAI_HEADERS, OPENAI_MESSAGE_ROLES, type OpenAiMessageRole } from '../../../contract/openai';
import type { ChatRequest } from '../../../domain/chat-request';
import { DomainError } from '../../../domain/errors';
import type { ChatMessage } from '../../../domain/turn';
import { type HttpEvent, header, parseJsonBody } from '../event';
import { CLIENT_ID_PATTERN, parseIdempotencyKey, parseRetryAttempt } from '../requests';

/** Most messages one request may carry (the body's 256 KB bound their size). */
export const MAX_MESSAGES = 1_000;

export interface CompletionLimits {
  /** MAX_PROMPT_CHARS: the longest last user message. */
  readonly maxPromptChars: number;
  /** MODEL_ID: the one model served. */
  readonly modelId: string;
}

export interface CompletionRequest {
  readonly request: ChatRequest;
  readonly model: string;
  /** `stream_options.include_usage`: a last chunk with the usage and no choices. */
  readonly includeUsage: boolean;
}

const invalid = (message: string, param: string | null) =>
  new DomainError('invalid_request', message, param === null ? {} : { param });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isRole = (value: unknown): value is OpenAiMessageRole =>
  typeof value === 'string' && (OPENAI_MESSAGE_ROLES as readonly string[]).includes(value);

/** A message's text: a string, or an array of text parts (joined); images and other parts are refused. */
function contentText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(`"${param}" must be a string or an array of text parts.`, param);
  return content
    .map((part, index) => {
      if (!isRecord(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw invalid(
          `"${param}[${index}]" must be a text part ({"type":"text","text":…}).`,
          `${param}[${index}]`,
        );
      }
      return part.text;
    })
    .join('');
}

function parseMessages(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid('"messages" must be a non-empty array of messages.', 'messages');
  }
  if (value.length > MAX_MESSAGES)
    throw invalid(`"messages" may hold at most ${MAX_MESSAGES} messages.`, 'messages');
  return value.map((message, index): ChatMessage => {
    const param = `messages[${index}]`;
    if (!isRecord(message)) throw invalid(`"${param}" must be an object.`, param);
    if (!isRole(message.role)) {
      throw invalid(`"${param}.role" must be one of ${OPENAI_MESSAGE_ROLES.join(', ')}.`, `${param}.role`);
    }
    if (message.name !== undefined && message.name !== null && typeof message.name !== 'string')
      throw invalid(`"${param}.name" must be a string.`, `${param}.name`);
    const content = contentText(message.content, `${param}.content`);
    if (content.trim().length === 0)
      throw invalid(`"${param}.content" must not be empty.`, `${param}.content`);
    // `developer` is OpenAI's newer name for the system prompt; the serving model knows `system`.
    return { role: message.role === 'developer' ? 'system' : message.role, content };
  });
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`"${field}" must be a boolean.`, field);
  return value;
}

function conversationIdOf(body: Record<string, unknown>, event: HttpEvent): string | undefined {
  const field = body.conversation_id;
  if (
    field !== undefined &&
    field !== null &&
    (typeof field !== 'string' || !CLIENT_ID_PATTERN.test(field))
  ) {
    throw invalid(
      '"conversation_id" must be 1-128 characters of letters, digits, "_" or "-".',
      'conversation_id',
    );
  }
  const fromHeader = header(event, OPENAI_HEADERS.conversationId) || undefined;
  if (fromHeader !== undefined && !CLIENT_ID_PATTERN.test(fromHeader)) {
    throw invalid(
      `"${OPENAI_HEADERS.conversationId}" must be 1-128 characters of letters, digits, "_" or "-".`,
      null,
    );
  }
  const fromBody = typeof field === 'string' ? field : undefined;
  if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
    throw invalid(
      `"conversation_id" and "${OPENAI_HEADERS.conversationId}" name different conversations.`,
      'conversation_id',
    );
  }
  return fromBody ?? fromHeader;
}

/** The body, the conversation (field or header) and POST /chat's headers (Idempotency-Key, retries). */
export function parseCompletionRequest(event: HttpEvent, limits: CompletionLimits): CompletionRequest {
  const body = parseJsonBody(event);
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.', null);
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalid('"model" must be a string.', 'model');
  const messages = parseMessages(body.messages);
  const last = messages.at(-1);
  if (last?.role !== 'user') {
    throw invalid(
      "The last message must be the user's: it is the prompt answered.",
      `messages[${messages.length - 1}].role`,
    );
  }
  if (last.content.length > limits.maxPromptChars) {
    throw invalid(
      `The last message is longer than the limit of ${limits.maxPromptChars} characters.`,
      `messages[${messages.length - 1}].content`,
    );
  }
  const stream = optionalBoolean(body, 'stream') === true;
  let includeUsage = false;
  if (body.stream_options !== undefined && body.stream_options !== null) {
    if (!stream) throw invalid('"stream_options" is only allowed with "stream": true.', 'stream_options');
    if (!isRecord(body.stream_options))
      throw invalid('"stream_options" must be an object.', 'stream_options');
    const include = body.stream_options.include_usage;
    if (include !== undefined && typeof include !== 'boolean') {
      throw invalid('"stream_options.include_usage" must be a boolean.', 'stream_options.include_usage');
    }
    includeUsage = include === true;
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid('Only "n": 1 is served.', 'n');
  if (Array.isArray(body.tools) && body.tools.length > 0) throw invalid('Tools are not supported.', 'tools');
  // The model is checked after the body's shape, so a malformed request is told what is wrong with it first.
  if (model !== limits.modelId) {
    throw new DomainError(
      'not_found',
      `The model "${model}" does not exist or you do not have access to it.`,
      {
        param: 'model',
      },
    );
  }
  const conversationId = conversationIdOf(body, event);
  return {
    model,
    includeUsage,
    request: {
      prompt: last.content,
      history: messages.slice(0, -1),
      stream,
      ...(conversationId ? { conversationId } : {}),
      retryAttempt: parseRetryAttempt(
        header(event, CHAT_HEADERS.retryAttempt) ?? header(event, OPENAI_HEADERS.stainlessRetryCount),
      ),
      idempotencyKey: parseIdempotencyKey(header(event, CHAT_HEADERS.idempotencyKey)),
    },
  };
}
