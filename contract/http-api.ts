/**
 * Request and response bodies of the HTTP API, in their wire (snake_case) form. The server parses
 * requests into domain types (domain/chat-request.ts); the web client builds and reads these.
 * Errors: `ErrorBody` (./errors). POST /chat with `stream: true` answers Server-Sent Events (./sse).
 */
import type { TurnStatus } from './turn';

/** The largest request body any route reads; a longer one is answered 413 (at the edge, and by the functions). */
export const MAX_REQUEST_BODY_BYTES = 256 * 1024;

/** POST /chat. */
export interface ChatRequestBody {
  readonly prompt: string;
  readonly stream?: boolean;
  readonly conversation_id?: string;
}

/** POST /chat without streaming: answered once the turn is stored. */
export interface ChatResponseBody {
  readonly message_id: string;
  readonly response: string;
  readonly conversation_id: string;
}

/** Response headers of a streamed POST /chat, there before the first event. */
export const CHAT_STREAM_HEADERS = {
  messageId: 'x-message-id',
  conversationId: 'x-conversation-id',
} as const;

/** Request headers POST /chat reads (lower case, as Function URLs deliver them). */
export const CHAT_HEADERS = {
  /** The same key on every retry of one prompt: a retry never starts a second inference. */
  idempotencyKey: 'idempotency-key',
  /** How many times the client already retried after a 503; drives the free tier's backoff. */
  retryAttempt: 'x-retry-attempt',
} as const;

/** GET /chat/history query string. */
export interface HistoryQueryParams {
  readonly limit?: number;
  readonly cursor?: string;
  readonly conversation_id?: string;
}

/** One entry of GET /chat/history: one prompt and its answer. */
export interface HistoryEntry {
  readonly id: string;
  readonly user_message: string;
  readonly assistant_response: string;
  /** ISO-8601 UTC, when the prompt arrived. */
  readonly timestamp: string;
  readonly conversation_id: string;
  readonly status: TurnStatus;
  /** Why a failed turn failed (an error code); see TURN_ERROR_MESSAGES. */
  readonly error_code?: string;
}

/** GET /chat/history, newest first; `next_cursor` only when more entries exist. */
export interface HistoryResponse {
  readonly chats: readonly HistoryEntry[];
  readonly next_cursor?: string;
}

/** POST /chat/store: a finished turn sent by a client. */
export interface StoreRequestBody {
  readonly id?: string;
  readonly user_message: string;
  readonly assistant_response: string;
  readonly conversation_id?: string;
  /** ISO-8601. */
  readonly timestamp?: string;
}

export interface StoreResponseBody {
  readonly status: 'success';
  readonly id: string;
}

/** POST /chat/stop. */
export interface StopRequestBody {
  readonly message_id: string;
}

export interface StopResponseBody {
  readonly message_id: string;
  readonly status: 'stopping';
}
