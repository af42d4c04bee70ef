import type { FinalTurnStatus, Tier, TurnStatus } from '../contract/turn';
import type { TurnRevision } from './chat-request';

/** The verified identity of a request: always derived from the token, never from the body. */
export interface Caller {
  readonly userId: string;
  readonly tier: Tier;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

/** One prompt and its answer, as stored. */
export interface Turn {
  readonly userId: string;
  readonly id: string;
  readonly conversationId: string;
  readonly userMessage: string;
  readonly assistantResponse: string;
  readonly status: TurnStatus;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishReason?: string;
  readonly usage?: TokenUsage;
  /** Prompt tokens of this turn's own message, from the server's counts (domain/context.ts). */
  readonly messageTokens?: number;
  /** Id of the oldest earlier turn this turn's prompt held, its own id when none: what its usage counted. */
  readonly contextFrom?: string;
  readonly errorCode?: string;
  readonly server?: string;
  /** Set while in_progress: where its stop is delivered. */
  readonly stopInbox?: string;
  readonly revises?: TurnRevision;
}

/** How a started turn ended; the repository applies it only to a turn still in_progress. */
export interface TurnOutcome {
  readonly status: FinalTurnStatus;
  readonly assistantResponse: string;
  readonly finishReason?: string;
  readonly usage?: TokenUsage;
  readonly messageTokens?: number;
  readonly contextFrom?: string;
  readonly errorCode?: string;
  readonly updatedAt: string;
}

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}
