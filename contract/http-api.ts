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
  /** A regeneration: the id of the turn whose answer this new turn answers again (same prompt). */
  readonly regenerate_of?: string;
  /** An edit-and-resend: the id of the turn whose prompt this new turn's prompt replaces. */
  readonly edit_of?: string;
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
  /** Set when the turn was sent as a regeneration of this earlier turn (POST /chat's `regenerate_of`). */
  readonly regenerate_of?: string;
  /** Set when the turn was sent as an edit of this earlier turn's prompt (POST /chat's `edit_of`). */
  readonly edit_of?: string;
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

/** Longest conversation title, in characters (PATCH /chat/conversations/{id}). */
export const MAX_CONVERSATION_TITLE_CHARS = 200;

/** One conversation of GET /chat/conversations (and PATCH's 200). Times are ISO-8601 UTC. */
export interface ConversationEntry {
  readonly id: string;
  readonly title: string;
  readonly created_at: string;
  /** The start of its latest turn: the list is ordered by it, newest first. */
  readonly updated_at: string;
  /** Turns started in it. */
  readonly turns: number;
}

/** GET /chat/conversations?limit&cursor; `next_cursor` only when more exist. */
export interface ConversationsResponse {
  readonly conversations: readonly ConversationEntry[];
  readonly next_cursor?: string;
}

/** PATCH /chat/conversations/{id}. */
export interface RenameConversationBody {
  readonly title: string;
}

/**
 * Where an erase of the caller's whole history stands: `erasing` once DELETE /chat/history answered (nothing
 * erased is shown any more), `complete` once every erased item is deleted. GET /chat/history/erase; `none`
 * when the caller never erased.
 */
export type EraseStatus = 'none' | 'erasing' | 'complete';

/** DELETE /chat/history's 202 and GET /chat/history/erase's 200. */
export interface EraseStatusBody {
  readonly status: EraseStatus;
  /** Every turn created before this instant is erased (absent with `none`). */
  readonly erased_before?: string;
}

/** GET /chat/export: the caller's whole history, streamed; chats newest first, as in /chat/history. */
export interface ExportBody {
  readonly exported_at: string;
  readonly conversations: readonly ConversationEntry[];
  readonly chats: readonly HistoryEntry[];
}
