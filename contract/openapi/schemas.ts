/**
 * The API's bodies as JSON Schema (2020-12, OpenAPI 3.1's dialect): the components of the document
 * (document.ts). A request schema's `examples[0]` is a valid body; test/contract/openapi-agreement.test.ts
 * holds each request schema to the parser that validates it (required fields, types, lengths, patterns),
 * so the description cannot drift from what the functions accept.
 */
import { MAX_API_KEY_NAME_CHARS } from '../api-keys';
import type { ErrorCode } from '../errors';
import { MAX_CONVERSATION_TITLE_CHARS } from '../http-api';
import { OPENAI_MESSAGE_ROLES } from '../openai';
import { TURN_STATUSES } from '../turn';

export type JsonSchema = { readonly [key: string]: unknown };

/** The deployment's limits the document states (settings: MAX_PROMPT_CHARS, …, MODEL_ID). */
export interface ApiLimits {
  readonly maxPromptChars: number;
  readonly maxStoredAnswerChars: number;
  readonly modelId: string;
}

export const ERROR_CODES = [
  'invalid_request',
  'payload_too_large',
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'in_progress',
  'overloaded',
  'rate_limited',
  'upstream_error',
  'upstream_timeout',
  'upstream_auth',
  'answer_too_long',
  'internal_error',
] as const satisfies readonly ErrorCode[];

/** The ids clients supply (conversations, store ids, keys): functions/http/requests.ts CLIENT_ID_PATTERN. */
export const CLIENT_ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' } as const;
const TIMESTAMP = { type: 'string', format: 'date-time' } as const;
const TEXT = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: '\\S' }) as const;
/** An optional field the parser also takes as null, meaning absent (what some clients send). */
const nullable = (schema: JsonSchema & { type: string }) => ({ ...schema, type: [schema.type, 'null'] });
/** A present, non-null value of `field` (a null one counts as absent): for rules between fields. */
const given = (field: string) => ({ required: [field], properties: { [field]: { not: { type: 'null' } } } });
/** `when` implies `then` (JSON Schema's if/then, as ¬when ∨ then: an object with `then` reads as a promise). */
const implies = (when: JsonSchema, then: JsonSchema) => ({ anyOf: [{ not: when }, then] });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const object = (
  properties: Record<string, unknown>,
  required: readonly string[],
  extra: JsonSchema = {},
) => ({
  type: 'object',
  properties,
  required,
  ...extra,
});

export function componentSchemas(limits: ApiLimits): Record<string, JsonSchema> {
  const usage = object({ prompt_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' } }, [
    'prompt_tokens',
    'completion_tokens',
  ]);
  const openAiUsage = object(
    {
      prompt_tokens: { type: 'integer' },
      completion_tokens: { type: 'integer' },
      total_tokens: { type: 'integer' },
    },
    ['prompt_tokens', 'completion_tokens', 'total_tokens'],
  );
  const historyEntry = object(
    {
      id: { type: 'string' },
      user_message: { type: 'string' },
      assistant_response: { type: 'string' },
      timestamp: TIMESTAMP,
      conversation_id: { type: 'string' },
      status: { enum: TURN_STATUSES },
      error_code: { type: 'string' },
      regenerate_of: { type: 'string', description: 'The earlier turn this one regenerated.' },
      edit_of: { type: 'string', description: 'The earlier turn whose prompt this one edited.' },
    },
    ['id', 'user_message', 'assistant_response', 'timestamp', 'conversation_id', 'status'],
  );
  const conversation = object(
    {
      id: { type: 'string' },
      title: { type: 'string' },
      created_at: TIMESTAMP,
      updated_at: TIMESTAMP,
      turns: { type: 'integer', minimum: 0 },
    },
    ['id', 'title', 'created_at', 'updated_at', 'turns'],
  );
  const apiKey = object(
    {
      id: { type: 'string' },
      name: { type: 'string' },
      prefix: { type: 'string' },
      created_at: TIMESTAMP,
      last_used_at: TIMESTAMP,
    },
    ['id', 'name', 'prefix', 'created_at'],
  );
  const message = object(
    {
      role: { enum: OPENAI_MESSAGE_ROLES },
      content: {
        oneOf: [
          { type: 'string', minLength: 1, pattern: '\\S' },
          {
            type: 'array',
            minItems: 1,
            description: 'Text parts, joined; their text together must not be blank.',
            items: object({ type: { const: 'text' }, text: { type: 'string' } }, ['type', 'text']),
          },
        ],
      },
      name: nullable({ type: 'string' }),
    },
    ['role', 'content'],
  );
  return {
    Error: object(
      {
        error: object(
          {
            code: { enum: ERROR_CODES },
            message: { type: 'string' },
            retry_after_seconds: { type: 'number', description: 'With 429 and 503: when to retry.' },
            message_id: { type: 'string', description: 'With 409 in_progress: the turn being answered.' },
          },
          ['code', 'message'],
        ),
      },
      ['error'],
    ),
    OpenAiError: object(
      {
        error: object(
          {
            message: { type: 'string' },
            type: {
              enum: [
                'invalid_request_error',
                'authentication_error',
                'permission_error',
                'not_found_error',
                'rate_limit_error',
                'server_error',
              ],
            },
            param: { type: ['string', 'null'] },
            code: { type: ['string', 'null'], description: 'One of Error.code, or model_not_found.' },
          },
          ['message', 'type', 'param', 'code'],
        ),
      },
      ['error'],
    ),
    ChatRequest: object(
      {
        prompt: TEXT(limits.maxPromptChars),
        stream: { type: 'boolean' },
        conversation_id: nullable(CLIENT_ID_SCHEMA),
        regenerate_of: {
          ...nullable(CLIENT_ID_SCHEMA),
          description: 'An earlier turn of the conversation to answer again.',
        },
        edit_of: {
          ...nullable(CLIENT_ID_SCHEMA),
          description: 'An earlier turn whose prompt this one replaces.',
        },
      },
      ['prompt'],
      {
        // A revision names its turn's conversation, and is one kind or the other.
        allOf: [
          implies(given('regenerate_of'), given('conversation_id')),
          implies(given('edit_of'), given('conversation_id')),
        ],
        not: { allOf: [given('regenerate_of'), given('edit_of')] },
        examples: [
          { prompt: 'How do streams work?', stream: true },
          { prompt: 'How do streams work?', stream: false, conversation_id: 'c-1', regenerate_of: 't-1' },
        ],
      },
    ),
    ChatResponse: object(
      { message_id: { type: 'string' }, response: { type: 'string' }, conversation_id: { type: 'string' } },
      ['message_id', 'response', 'conversation_id'],
    ),
    SseMeta: object({ message_id: { type: 'string' }, conversation_id: { type: 'string' } }, [
      'message_id',
      'conversation_id',
    ]),
    SseContent: object({ content: { type: 'string' } }, ['content']),
    SseEnd: object(
      {
        message_id: { type: 'string' },
        status: { enum: TURN_STATUSES.filter((status) => status !== 'in_progress') },
        stored: { type: 'boolean' },
        finish_reason: { type: 'string' },
        usage,
      },
      ['message_id', 'status', 'stored'],
    ),
    HistoryEntry: historyEntry,
    History: object(
      { chats: { type: 'array', items: ref('HistoryEntry') }, next_cursor: { type: 'string' } },
      ['chats'],
    ),
    StoreRequest: object(
      {
        user_message: TEXT(limits.maxPromptChars),
        assistant_response: { type: 'string', maxLength: limits.maxStoredAnswerChars },
        id: nullable(CLIENT_ID_SCHEMA),
        conversation_id: nullable(CLIENT_ID_SCHEMA),
        timestamp: nullable(TIMESTAMP),
      },
      ['user_message', 'assistant_response'],
      {
        examples: [
          { user_message: 'Hello', assistant_response: 'Hi! How can I help?' },
          {
            user_message: 'Hello',
            assistant_response: 'Hi! How can I help?',
            id: 'store-1',
            conversation_id: 'c-1',
            timestamp: '2026-01-02T03:04:05.000Z',
          },
        ],
      },
    ),
    StoreResponse: object({ status: { const: 'success' }, id: { type: 'string' } }, ['status', 'id']),
    StopRequest: object({ message_id: CLIENT_ID_SCHEMA }, ['message_id'], {
      examples: [{ message_id: '01JEXAMPLE0000000000000000' }],
    }),
    StopResponse: object({ message_id: { type: 'string' }, status: { const: 'stopping' } }, [
      'message_id',
      'status',
    ]),
    Conversation: conversation,
    Conversations: object(
      { conversations: { type: 'array', items: ref('Conversation') }, next_cursor: { type: 'string' } },
      ['conversations'],
    ),
    RenameConversation: object({ title: TEXT(MAX_CONVERSATION_TITLE_CHARS) }, ['title'], {
      examples: [{ title: 'Streams in Node.js' }],
    }),
    EraseStatus: object({ status: { enum: ['none', 'erasing', 'complete'] }, erased_before: TIMESTAMP }, [
      'status',
    ]),
    Export: object(
      {
        exported_at: TIMESTAMP,
        conversations: { type: 'array', items: ref('Conversation') },
        chats: { type: 'array', items: ref('HistoryEntry') },
      },
      ['exported_at', 'conversations', 'chats'],
    ),
    CreateApiKey: object({ name: nullable(TEXT(MAX_API_KEY_NAME_CHARS)) }, [], {
      examples: [{ name: 'my laptop' }],
    }),
    ApiKey: apiKey,
    CreatedApiKey: {
      allOf: [ref('ApiKey'), object({ key: { type: 'string', description: 'Shown this once.' } }, ['key'])],
    },
    ApiKeys: object({ keys: { type: 'array', items: ref('ApiKey') } }, ['keys']),
    ChatCompletionMessage: message,
    ChatCompletionRequest: object(
      {
        model: {
          type: 'string',
          minLength: 1,
          description: `The model served: ${limits.modelId} (GET /v1/models).`,
        },
        messages: { type: 'array', minItems: 1, maxItems: 1000, items: ref('ChatCompletionMessage') },
        stream: nullable({ type: 'boolean' }),
        stream_options: {
          ...object({ include_usage: { type: 'boolean' } }, []),
          type: ['object', 'null'],
          description: 'Only with "stream": true.',
        },
        n: { enum: [1, null] },
        conversation_id: nullable(CLIENT_ID_SCHEMA),
      },
      ['model', 'messages'],
      {
        ...implies(given('stream_options'), {
          required: ['stream'],
          properties: { stream: { const: true } },
        }),
        description:
          "The last message is the prompt and must be the user's (at most MAX_PROMPT_CHARS); the ones before it are sent as its context, nothing stored is added. Sampling fields (temperature, top_p, max_tokens, …) are accepted and not applied.",
        examples: [
          { model: limits.modelId, messages: [{ role: 'user', content: 'Hello!' }] },
          {
            model: limits.modelId,
            messages: [
              { role: 'system', content: 'Be brief.' },
              { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
              { role: 'assistant', content: 'Hello.' },
              { role: 'user', content: 'Hello!', name: 'ada' },
            ],
            stream: true,
            stream_options: { include_usage: true },
            n: 1,
            conversation_id: 'c-1',
          },
        ],
      },
    ),
    ChatCompletion: object(
      {
        id: { type: 'string' },
        object: { const: 'chat.completion' },
        created: { type: 'integer' },
        model: { type: 'string' },
        choices: {
          type: 'array',
          items: object(
            {
              index: { const: 0 },
              message: object(
                { role: { const: 'assistant' }, content: { type: 'string' }, refusal: { type: 'null' } },
                ['role', 'content'],
              ),
              finish_reason: { enum: ['stop', 'length'] },
            },
            ['index', 'message', 'finish_reason'],
          ),
        },
        usage: openAiUsage,
        conversation_id: { type: 'string' },
        message_id: { type: 'string' },
      },
      ['id', 'object', 'created', 'model', 'choices', 'conversation_id', 'message_id'],
    ),
    ChatCompletionChunk: object(
      {
        id: { type: 'string' },
        object: { const: 'chat.completion.chunk' },
        created: { type: 'integer' },
        model: { type: 'string' },
        choices: {
          type: 'array',
          items: object(
            {
              index: { const: 0 },
              delta: object({ role: { const: 'assistant' }, content: { type: 'string' } }, []),
              finish_reason: { enum: ['stop', 'length', null] },
            },
            ['index', 'delta', 'finish_reason'],
          ),
        },
        usage: { oneOf: [openAiUsage, { type: 'null' }] },
      },
      ['id', 'object', 'created', 'model', 'choices'],
    ),
    ModelList: object(
      {
        object: { const: 'list' },
        data: {
          type: 'array',
          items: object(
            {
              id: { type: 'string' },
              object: { const: 'model' },
              created: { type: 'integer' },
              owned_by: { type: 'string' },
            },
            ['id', 'object', 'created', 'owned_by'],
          ),
        },
      },
      ['object', 'data'],
    ),
    PublicConfig: object(
      {
        region: { type: 'string' },
        userPoolId: { type: 'string' },
        userPoolClientId: { type: 'string' },
        cognitoEndpoint: { type: 'string' },
      },
      ['region', 'userPoolId', 'userPoolClientId', 'cognitoEndpoint'],
    ),
  };
}
