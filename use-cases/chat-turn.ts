/** The chat use cases' shared shapes: their configuration, their ports, and a running turn as the HTTP side sees it. */
import type { DomainError } from '../domain/errors';
import type {
  Clock,
  ConversationRepository,
  IdempotencyClaims,
  Log,
  ModelClient,
  StopFlags,
  StopInbox,
  TurnRepository,
  TurnWriteQueue,
} from '../domain/ports';
import type { TokenUsage } from '../domain/turn';
import type { Admission } from './fleet-gate';

export interface ChatConfig {
  readonly model: string;
  /** Earlier turns of the conversation sent as context, in tokens. */
  readonly contextTokenBudget: number;
  /** How many earlier turns are read to fill the budget. */
  readonly contextTurnsToRead: number;
  /** Cap on the answer's length (max_tokens). */
  readonly maxAnswerTokens: number;
  /** Cap on the answer kept, in UTF-8 bytes: what one item (and one parked message) can hold. */
  readonly maxAnswerBytes: number;
  /** From sending the request to the first content token, per server tried. */
  readonly firstTokenTimeoutMs: number;
  /** Wall-time cap of a whole turn: a stream that runs longer is cut and the turn marked failed. */
  readonly maxTurnMs: number;
  /** How often a streaming turn polls the stop flag when its inbox cannot carry the stop. */
  readonly stopPollMs: number;
}

export interface ChatDeps {
  readonly repository: TurnRepository;
  /** The conversation item each turn records itself on (use-cases/conversation-context.ts). */
  readonly conversations: ConversationRepository;
  readonly model: ModelClient;
  readonly admission: Admission;
  readonly writeQueue: TurnWriteQueue;
  readonly stopFlags: StopFlags;
  readonly stopInbox: StopInbox;
  readonly idempotency: IdempotencyClaims;
  readonly clock: Clock;
  readonly log: Log;
  readonly config: ChatConfig;
}

export type TurnEvent =
  | { readonly type: 'content'; readonly text: string }
  | {
      readonly type: 'end';
      readonly status: 'completed' | 'stopped';
      /** True when the final state reached the table; false when it was parked on the write queue. */
      readonly stored: boolean;
      readonly finishReason?: string;
      readonly usage?: TokenUsage;
    }
  | { readonly type: 'error'; readonly error: DomainError; readonly stored: boolean };

export interface ActiveTurn {
  readonly messageId: string;
  readonly conversationId: string;
  /** The server answering; absent when the answer is replayed from the table (Idempotency-Key retry). */
  readonly serverId?: string;
  /** How the live turn opened, for its one log line (absent on a replay). */
  readonly opening?: {
    readonly ttftMs: number;
    readonly contextTurns: number;
    readonly contextTokens: number;
    /** Earlier turns whose tokens were estimated (no count of the model's own). */
    readonly contextEstimatedTurns: number;
    /** Age of the fleet view it was admitted on (ServerSelector.viewAgeMs), for its metrics line. */
    readonly viewAgeMs?: number;
  };
  /** The first content chunk (already received when begin() resolves), then the rest, then one end or error. */
  events(): AsyncGenerator<TurnEvent>;
}
