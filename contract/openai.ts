/**
 * The OpenAI-compatible front door's wire shapes (`/v1/*`): the chat-completions request and response,
 * its stream chunks, the model list, and OpenAI's error body. Only what this API sends or reads; the
 * server parses requests into the same domain input as POST /chat (functions/http/openai/).
 */

/** Request headers `/v1/chat/completions` reads besides POST /chat's (Idempotency-Key, x-retry-attempt). */
export const OPENAI_HEADERS = {
  /** The conversation to attach the turn to, for clients that cannot add a body field. */
  conversationId: 'x-conversation-id',
  /** The official clients' retry counter (0 on a first attempt): drives the free tier's backoff like x-retry-attempt. */
  stainlessRetryCount: 'x-stainless-retry-count',
  /** Read by the official clients: `false` stops their automatic retry (a wait longer than a person waits). */
  shouldRetry: 'x-should-retry',
} as const;

/** Roles a message may have; `developer` is OpenAI's newer name for `system` and is sent upstream as one. */
export const OPENAI_MESSAGE_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export type OpenAiMessageRole = (typeof OPENAI_MESSAGE_ROLES)[number];

/** A text part of a message's content (the array form); other part types are refused. */
export interface OpenAiTextPart {
  readonly type: 'text';
  readonly text: string;
}

export interface OpenAiMessage {
  readonly role: OpenAiMessageRole;
  readonly content: string | readonly OpenAiTextPart[];
  readonly name?: string;
}

/** POST /v1/chat/completions. Sampling fields (temperature, top_p, …) are accepted and not applied. */
export interface ChatCompletionRequestBody {
  readonly model: string;
  /** The whole conversation as the client has it; the last message is the new prompt and must be `user`. */
  readonly messages: readonly OpenAiMessage[];
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  /** Only 1 is served. */
  readonly n?: number;
  /** Ours: the conversation the turn is stored in (else a new one); also the `x-conversation-id` header. */
  readonly conversation_id?: string;
}

export interface OpenAiUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** `stop` (the model finished, or the owner stopped it through POST /chat/stop) or `length` (the token cap). */
export type OpenAiFinishReason = 'stop' | 'length';

/** The non-streamed answer, once the turn is stored. `id` is `chatcmpl-<message id>`. */
export interface ChatCompletionBody {
  readonly id: string;
  readonly object: 'chat.completion';
  /** Epoch seconds. */
  readonly created: number;
  readonly model: string;
  readonly choices: readonly [
    {
      readonly index: 0;
      readonly message: { readonly role: 'assistant'; readonly content: string; readonly refusal: null };
      readonly finish_reason: OpenAiFinishReason;
      readonly logprobs: null;
    },
  ];
  /** Absent only when the serving model reported no counts. */
  readonly usage?: OpenAiUsage;
  /** Ours: where the turn is stored (GET /chat/history, POST /chat/stop with the message id). */
  readonly conversation_id: string;
  readonly message_id: string;
}

/** One `data:` event of a streamed answer; the last one with usage (include_usage) has no choices. */
export interface ChatCompletionChunkBody {
  readonly id: string;
  readonly object: 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
  readonly choices: readonly {
    readonly index: 0;
    readonly delta: { readonly role?: 'assistant'; readonly content?: string };
    readonly finish_reason: OpenAiFinishReason | null;
    readonly logprobs: null;
  }[];
  /** Only on the usage chunk, when `stream_options.include_usage` was asked for (null on the others). */
  readonly usage?: OpenAiUsage | null;
}

/** GET /v1/models. */
export interface ModelListBody {
  readonly object: 'list';
  readonly data: readonly {
    readonly id: string;
    readonly object: 'model';
    readonly created: number;
    readonly owned_by: string;
  }[];
}

/** OpenAI's error `type`s, by what went wrong. */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'server_error';

/** Every `/v1/*` error body, on a non-2xx answer and as a stream's error event. `code` is our error code. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: OpenAiErrorType;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** `code` of the 404 for a model this deployment does not serve (OpenAI's own code). */
export const MODEL_NOT_FOUND = 'model_not_found';

/** Who owns the served model in GET /v1/models. */
export const MODEL_OWNER = 'chat';
