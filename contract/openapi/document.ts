/**
 * The API described as OpenAPI 3.1, served at GET /openapi.json (functions/get-openapi.ts). Built from
 * the deployment's limits, so the lengths it states are the ones the functions enforce.
 */
import { API_KEY_PREFIX } from '../api-keys';
import { PATHS } from './paths';
import { type ApiLimits, CLIENT_ID_SCHEMA, componentSchemas, type JsonSchema } from './schemas';

export type { ApiLimits } from './schemas';

const headerOf = (description: string, schema: JsonSchema = { type: 'string' }) => ({ description, schema });

export function buildOpenApiDocument(limits: ApiLimits) {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Chat API',
      version: '1.0.0',
      description:
        'The chat assistant’s API, and an OpenAI-compatible front door under /v1. Every route but the two documents takes Authorization: Bearer <Cognito ID token>; /v1/* also takes an API key (POST /chat/keys).',
    },
    servers: [{ url: '/' }],
    security: [{ cognitoIdToken: [] }],
    paths: PATHS,
    components: {
      schemas: componentSchemas(limits),
      securitySchemes: {
        cognitoIdToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Cognito ID token; the tier comes from its groups.',
        },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: `An API key (${API_KEY_PREFIX}…): acts as its owner, with the owner’s tier. /v1/* only.`,
        },
      },
      headers: {
        RateLimitLimit: headerOf('Prompts of the caller’s quota window.', { type: 'integer' }),
        RateLimitRemaining: headerOf('Prompts left in the window (absent when the counter failed).', {
          type: 'integer',
        }),
        RateLimitReset: headerOf('Until the window resets, as a duration (2h59m58s).'),
        RetryAfter: headerOf('Seconds to wait before retrying.', { type: 'integer' }),
        MessageId: headerOf('The turn’s message id (POST /chat/stop, history).'),
        ConversationId: headerOf('The conversation the turn is stored in.'),
        ShouldRetry: headerOf(
          'false: do not retry automatically (the wait is longer than a minute, or retrying cannot succeed).',
          { enum: ['false'] },
        ),
      },
      parameters: {
        Id: { name: 'id', in: 'path', required: true, schema: CLIENT_ID_SCHEMA },
        Limit: {
          name: 'limit',
          in: 'query',
          schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
        },
        Cursor: { name: 'cursor', in: 'query', schema: { type: 'string', maxLength: 2048 } },
        ConversationQuery: { name: 'conversation_id', in: 'query', schema: CLIENT_ID_SCHEMA },
        StreamQuery: {
          name: 'stream',
          in: 'query',
          description: 'true streams, like "stream": true.',
          schema: { enum: ['true', 'false'] },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          description: 'The same key on every retry of one prompt: a retry never runs a second inference.',
          schema: CLIENT_ID_SCHEMA,
        },
        RetryAttempt: {
          name: 'x-retry-attempt',
          in: 'header',
          description: 'Retries so far after a 503 (free tier’s backoff).',
          schema: { type: 'integer', minimum: 0, maximum: 9999 },
        },
        StainlessRetryCount: {
          name: 'x-stainless-retry-count',
          in: 'header',
          description: 'The official OpenAI clients’ retry counter, read like x-retry-attempt.',
          schema: { type: 'integer', minimum: 0 },
        },
        ConversationHeader: {
          name: 'x-conversation-id',
          in: 'header',
          description: 'The conversation to store the turn in, for clients that cannot add conversation_id.',
          schema: CLIENT_ID_SCHEMA,
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
