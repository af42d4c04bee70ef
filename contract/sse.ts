/**
 * The event stream of POST /chat (`stream: true`), in order: one `meta` event, unnamed `data` events
 * with content, then either an `end` event and `data: [DONE]`, or an `error` event (an ErrorBody).
 */
import type { FinalTurnStatus } from './turn';

/** Named events; content chunks are unnamed (`message`). */
export type ChatSseEventName = 'meta' | 'end' | 'error';

/** First event: the ids the turn is stored under (stop, history, retry in the same conversation). */
export interface SseMetaPayload {
  readonly message_id: string;
  readonly conversation_id: string;
}

/** An unnamed event: the next piece of the answer. */
export interface SseContentPayload {
  readonly content: string;
}

export interface SseEndPayload {
  readonly message_id: string;
  readonly status: FinalTurnStatus;
  /** Whether the turn reached the table (false: parked on the write queue). */
  readonly stored: boolean;
  readonly finish_reason?: string;
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
}

/** The data of the last event of a completed stream. */
export const SSE_DONE_DATA = '[DONE]';
