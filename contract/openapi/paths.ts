/**
 * The document's paths: every route of lib/resources.ts (test/contract/openapi.test.ts fails when one
 * is missing, or described but not served), its parameters, headers, bodies, SSE events and errors.
 */
import type { JsonSchema } from './schemas';

const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const parameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });
const jsonContent = (name: string) => ({ 'application/json': { schema: schema(name) } });
const jsonBody = (name: string, required = true) => ({ required, content: jsonContent(name) });

const RATE_LIMIT_HEADERS = {
  'x-ratelimit-limit-requests': header('RateLimitLimit'),
  'x-ratelimit-remaining-requests': header('RateLimitRemaining'),
  'x-ratelimit-reset-requests': header('RateLimitReset'),
};

/** Error responses in the API's own shape, or OpenAI's on `/v1/*`. */
function errors(shape: 'Error' | 'OpenAiError', statuses: readonly number[]): Record<string, JsonSchema> {
  const described: Record<number, string> = {
    400: 'Bad input: malformed JSON, a missing or wrong field, too long a text.',
    401: 'No, an expired or an invalid token (or API key).',
    403: 'Not through the distribution (origin check).',
    404: 'Not one of the caller’s (on /v1: a model not served, code model_not_found).',
    405: 'Another method.',
    409: 'An Idempotency-Key still being answered (in_progress), or used with another request (conflict); a key limit reached.',
    413: 'A body over 256 KB.',
    429: 'A quota spent (rate_limited): Retry-After says when.',
    500: 'Our failure.',
    502: 'The model failed.',
    503: 'The fleet is busy (overloaded): Retry-After says when.',
    504: 'The model took too long.',
  };
  return Object.fromEntries(
    statuses.map((status) => {
      const headers =
        status === 429 || status === 503
          ? { 'retry-after': header('RetryAfter'), ...(status === 429 ? RATE_LIMIT_HEADERS : {}) }
          : {};
      return [
        String(status),
        {
          description: described[status] ?? 'Error.',
          ...(Object.keys(headers).length > 0 || shape === 'OpenAiError'
            ? {
                headers: {
                  ...headers,
                  ...(shape === 'OpenAiError' ? { 'x-should-retry': header('ShouldRetry') } : {}),
                },
              }
            : {}),
          content: jsonContent(shape),
        },
      ];
    }),
  );
}

const COMMON = [400, 401, 403, 405, 500] as const;
const TURN_ERRORS = [...COMMON, 409, 413, 429, 502, 503, 504] as const;
const noContent = (description: string) => ({ description });

const chatStream = {
  'text/event-stream': {
    // A media type object has no description of its own in 3.1: the stream's shape is its schema's.
    schema: {
      type: 'string',
      description:
        'event: meta (SseMeta), then unnamed data events (SseContent) whose contents concatenated are the answer, then event: end (SseEnd) and data: [DONE]; a failure after the headers: event: error (Error) and no [DONE].',
    },
    'x-sse-events': {
      meta: schema('SseMeta'),
      message: schema('SseContent'),
      end: schema('SseEnd'),
      error: schema('Error'),
    },
  },
};

const completionStream = {
  'text/event-stream': {
    schema: {
      type: 'string',
      description:
        'data: ChatCompletionChunk events (the first with role, then content deltas, then one with finish_reason; with stream_options.include_usage a last chunk with usage and no choices), then data: [DONE]. A failure after the headers: a data event holding OpenAiError.',
    },
    'x-sse-events': { message: schema('ChatCompletionChunk'), error: schema('OpenAiError') },
  },
};

const turnHeaders = {
  ...RATE_LIMIT_HEADERS,
  'x-message-id': header('MessageId'),
  'x-conversation-id': header('ConversationId'),
};

export const PATHS = {
  '/chat': {
    post: {
      operationId: 'postChat',
      summary: 'Send a prompt; the answer streams (SSE) or comes once stored.',
      parameters: [parameter('StreamQuery'), parameter('IdempotencyKey'), parameter('RetryAttempt')],
      requestBody: jsonBody('ChatRequest'),
      responses: {
        200: {
          description: 'The answer: JSON once stored, or SSE when streaming.',
          headers: turnHeaders,
          content: { ...jsonContent('ChatResponse'), ...chatStream },
        },
        ...errors('Error', TURN_ERRORS),
      },
    },
  },
  '/chat/history': {
    get: {
      operationId: 'getHistory',
      summary: 'The caller’s turns, newest first.',
      parameters: [parameter('Limit'), parameter('Cursor'), parameter('ConversationQuery')],
      responses: {
        200: { description: 'A page.', content: jsonContent('History') },
        ...errors('Error', COMMON),
      },
    },
    delete: {
      operationId: 'eraseHistory',
      summary: 'Erase everything of the caller’s: from this answer on no session sees it.',
      responses: {
        202: { description: 'Erasing.', content: jsonContent('EraseStatus') },
        ...errors('Error', COMMON),
      },
    },
  },
  '/chat/history/erase': {
    get: {
      operationId: 'getEraseStatus',
      summary: 'Where the caller’s last erase stands.',
      responses: {
        200: { description: 'Its status.', content: jsonContent('EraseStatus') },
        ...errors('Error', COMMON),
      },
    },
  },
  '/chat/store': {
    post: {
      operationId: 'postStore',
      summary: 'Store a finished turn; idempotent on id.',
      requestBody: jsonBody('StoreRequest'),
      responses: {
        200: { description: 'Stored.', content: jsonContent('StoreResponse') },
        ...errors('Error', [...COMMON, 409, 413, 429]),
      },
    },
  },
  '/chat/stop': {
    post: {
      operationId: 'postStop',
      summary: 'Stop one of the caller’s streaming answers (kept, status stopped).',
      requestBody: jsonBody('StopRequest'),
      responses: {
        200: { description: 'Stopping.', content: jsonContent('StopResponse') },
        ...errors('Error', [...COMMON, 404, 409]),
      },
    },
  },
  '/chat/conversations': {
    get: {
      operationId: 'listConversations',
      summary: 'The caller’s conversations, newest activity first.',
      parameters: [parameter('Limit'), parameter('Cursor')],
      responses: {
        200: { description: 'A page.', content: jsonContent('Conversations') },
        ...errors('Error', COMMON),
      },
    },
  },
  '/chat/conversations/{id}': {
    parameters: [parameter('Id')],
    patch: {
      operationId: 'renameConversation',
      summary: 'Rename a conversation.',
      requestBody: jsonBody('RenameConversation'),
      responses: {
        200: { description: 'Renamed.', content: jsonContent('Conversation') },
        ...errors('Error', [...COMMON, 404]),
      },
    },
    delete: {
      operationId: 'deleteConversation',
      summary: 'Delete a conversation and its turns.',
      responses: { 204: noContent('Deleted.'), ...errors('Error', [...COMMON, 404]) },
    },
  },
  '/chat/export': {
    get: {
      operationId: 'exportHistory',
      summary: 'Everything of the caller’s as one JSON document, streamed as it is read.',
      responses: {
        200: { description: 'The export.', content: jsonContent('Export') },
        ...errors('Error', COMMON),
      },
    },
  },
  '/chat/keys': {
    post: {
      operationId: 'createApiKey',
      summary: 'Create an API key (Cognito ID token only). The key is shown in this answer only.',
      requestBody: jsonBody('CreateApiKey', false),
      responses: {
        201: { description: 'Created.', content: jsonContent('CreatedApiKey') },
        ...errors('Error', [...COMMON, 409]),
      },
    },
    get: {
      operationId: 'listApiKeys',
      summary: 'The caller’s API keys: prefix and last use, never the key.',
      responses: {
        200: { description: 'The keys.', content: jsonContent('ApiKeys') },
        ...errors('Error', COMMON),
      },
    },
  },
  '/chat/keys/{id}': {
    parameters: [parameter('Id')],
    delete: {
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key: refused everywhere within API_KEY_CACHE_SECONDS (≤ 60 s).',
      responses: { 204: noContent('Revoked.'), ...errors('Error', [...COMMON, 404]) },
    },
  },
  '/v1/chat/completions': {
    post: {
      operationId: 'createChatCompletion',
      summary:
        'OpenAI chat completions: POST /chat’s pipeline (quotas, admission, turns, idempotency) in the OpenAI protocol.',
      security: [{ cognitoIdToken: [] }, { apiKey: [] }],
      parameters: [
        parameter('ConversationHeader'),
        parameter('IdempotencyKey'),
        parameter('RetryAttempt'),
        parameter('StainlessRetryCount'),
      ],
      requestBody: jsonBody('ChatCompletionRequest'),
      responses: {
        200: {
          description: 'The completion: JSON once stored, or SSE when streaming.',
          headers: turnHeaders,
          content: { ...jsonContent('ChatCompletion'), ...completionStream },
        },
        ...errors('OpenAiError', [...TURN_ERRORS, 404]),
      },
    },
  },
  '/v1/models': {
    get: {
      operationId: 'listModels',
      summary: 'The models the fleet serves.',
      security: [{ cognitoIdToken: [] }, { apiKey: [] }],
      responses: {
        200: { description: 'The list.', content: jsonContent('ModelList') },
        ...errors('OpenAiError', COMMON),
      },
    },
  },
  '/openapi.json': {
    get: {
      operationId: 'getOpenApi',
      summary: 'This document.',
      security: [],
      responses: {
        200: { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    },
  },
  '/config.json': {
    get: {
      operationId: 'getPublicConfig',
      summary: 'What the web client needs to sign in (S3 on AWS, the gateway locally).',
      security: [],
      responses: { 200: { description: 'The public configuration.', content: jsonContent('PublicConfig') } },
    },
  },
} as const;
