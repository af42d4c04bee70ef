/**
 * The use cases' inputs, already validated. Parsing them from HTTP (bodies, query strings, headers) is
 * the HTTP adapter's job: functions/http/requests.ts.
 */

import type { ChatMessage } from './turn';

export interface ChatRequest {
  readonly prompt: string;
  /**
   * The client's own earlier messages (the OpenAI protocol sends the whole list): sent as the context
   * instead of the conversation's stored turns, which are then not read. Absent on POST /chat.
   */
  readonly history?: readonly ChatMessage[];
  readonly stream: boolean;
  readonly conversationId?: string;
  /** What this turn revises (a regeneration or an edit of an earlier turn); stored on the turn. */
  readonly revises?: TurnRevision;
  /** How many times the client already retried after a 503 (`x-retry-attempt`); drives its backoff. */
  readonly retryAttempt?: number;
  /** `Idempotency-Key` header: a retry with the same key never starts a second inference. */
  readonly idempotencyKey?: string;
}

export interface StoreRequest {
  readonly id?: string;
  readonly userMessage: string;
  readonly assistantResponse: string;
  readonly conversationId?: string;
  /** Epoch ms. */
  readonly timestamp?: number;
}

export interface HistoryRequest {
  readonly limit: number;
  readonly cursor?: string;
  readonly conversationId?: string;
}

/**
 * A turn sent to redo an earlier one of its conversation: `regeneration` answers the same prompt again,
 * `edit` sends an edited prompt in its place. Both are new turns; `of` is the earlier turn's id.
 */
export interface TurnRevision {
  readonly kind: 'regeneration' | 'edit';
  readonly of: string;
}
