/**
 * Ports: what the use cases need from the outside world. Adapters in adapters/ implement them
 * with the AWS SDK or HTTP; tests implement them only to inject faults.
 */

import type { TurnRevision } from './chat-request';
import type { Conversation, ConversationPage, Erasure } from './conversation';
import type { FleetState, ServerLoad, ShardTotals } from './fleet';
import type { ChatMessage, TokenUsage, Turn, TurnOutcome } from './turn';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface NewTurn {
  readonly userId: string;
  readonly id: string;
  readonly conversationId: string;
  readonly userMessage: string;
  readonly createdAt: string;
  readonly server?: string;
  /** Where a stop for this turn is delivered while it streams (StopInbox.address). */
  readonly stopInbox?: string;
  readonly revises?: TurnRevision;
}

export interface StoredTurnInput {
  readonly userId: string;
  /** The client's id (idempotency key of /chat/store). */
  readonly clientId: string;
  /** Time-ordered id used for the sort key (derived from the timestamp). */
  readonly turnId: string;
  readonly conversationId: string;
  readonly userMessage: string;
  readonly assistantResponse: string;
  readonly createdAt: string;
}

export interface HistoryPage {
  readonly turns: Turn[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface HistoryQuery {
  readonly limit: number;
  readonly cursor?: string;
  readonly conversationId?: string;
}

export interface TurnRepository {
  /** Writes the turn as in_progress. Fails if a turn with this id already exists. */
  startTurn(turn: NewTurn): Promise<void>;
  /**
   * Moves an in_progress turn (or one whose start write was lost) to its final state.
   * Returns false, without writing, when the turn already ended (a retry or a sweeper got there first).
   * `replaceInterrupted`: a parked real outcome may replace the sweeper's `interrupted`, which was only a guess.
   */
  finishTurn(
    turn: NewTurn,
    outcome: TurnOutcome,
    options?: { replaceInterrupted?: boolean },
  ): Promise<boolean>;
  /** Removes a turn that is still in_progress (a prompt refused for load after its start write). */
  discardTurn(userId: string, id: string): Promise<void>;
  /** Stores a complete turn from /chat/store; 'duplicate' for the same id and content; throws conflict otherwise. */
  storeTurn(input: StoredTurnInput): Promise<'created' | 'duplicate'>;
  getTurn(userId: string, id: string): Promise<Turn | undefined>;
  /** The caller's turns newest first. Throws invalid_request for a cursor that is not the caller's. */
  listTurns(userId: string, query: HistoryQuery): Promise<HistoryPage>;
  /** The caller's turns of these ids, in their order, eventually consistent; a gone one is left out. */
  readTurns(userId: string, ids: readonly string[]): Promise<Turn[]>;
  /**
   * Marks the turn `interrupted` at `at` (ISO-8601) if it is still in_progress; false, without writing,
   * when it ended meanwhile or was never written.
   */
  interruptTurn(userId: string, id: string, at: string): Promise<boolean>;
}

/** What a turn's start learned of its conversation (ConversationRepository.recordTurn). */
export type ConversationActivity =
  /** New, or deleted or erased since: no earlier turn of it may be context. */
  | { readonly existed: false }
  /** Only its turns created since `createdAt` are its own (an id reused after a delete is a new one). */
  | {
      readonly existed: true;
      readonly createdAt: string;
      /**
       * Ids of its newest turns before this one, newest first, as its item keeps them; absent on an item
       * written before it kept them (then an index Query finds them).
       */
      readonly recentTurnIds?: readonly string[];
    };

/** The conversation items of the chat table (adapters/dynamodb/conversation-repository.ts), one per conversation. */
export interface ConversationRepository {
  /**
   * One write as a turn starts (`at`): creates the conversation with `title` when absent, else advances
   * its activity; either way its turns count goes up by one.
   */
  recordTurn(
    userId: string,
    conversationId: string,
    title: string,
    at: string,
    turnId: string,
  ): Promise<ConversationActivity>;
  /** The caller's conversations, newest activity first. Throws invalid_request for a cursor not the caller's. */
  list(
    userId: string,
    query: { readonly limit: number; readonly cursor?: string },
  ): Promise<ConversationPage>;
  /** Every conversation of the caller, newest activity first, from one read of them (an export). */
  listAll(userId: string): Promise<Conversation[]>;
  /** Renames it; undefined when the caller has no such conversation. */
  rename(userId: string, conversationId: string, title: string): Promise<Conversation | undefined>;
  /** Deletes the conversation item (not its turns); false when there was none. */
  remove(userId: string, conversationId: string): Promise<boolean>;
  /** Deletes every conversation item of the user; how many there were. */
  removeAll(userId: string): Promise<number>;
}

/** Turns to delete: one conversation's or the whole history's, created before `before` (ISO-8601). */
export interface EraseScope {
  readonly userId: string;
  readonly conversationId?: string;
  readonly before: string;
}

/** Deletes turns in batches (adapters/dynamodb/turn-eraser.ts). */
export interface TurnEraser {
  /**
   * Deletes the scope's turns (for the whole history also its /chat/store claims) until none is left or
   * `deadline` (epoch ms) passes; `done` when none is left.
   */
  erase(scope: EraseScope, deadline: number): Promise<{ readonly deleted: number; readonly done: boolean }>;
}

/** The user's erase mark: written before anything is deleted, so what it erases is hidden at once. */
export interface ErasureMarks {
  get(userId: string): Promise<Erasure | undefined>;
  /** Writes the mark (erasing), replacing an earlier one. */
  begin(userId: string, erasedBefore: string): Promise<void>;
  /** Marks it complete, unless a later erase replaced it. */
  complete(userId: string, erasedBefore: string): Promise<void>;
}

/** Where the rest of an erase goes when it cannot finish in the request (adapters/sqs/erase-jobs.ts). */
export interface EraseJobQueue {
  enqueue(scope: EraseScope): Promise<void>;
}

/** Stop requests for streaming turns: small items the streaming function polls while it streams. */
/** The durable record of a stop, and the fallback signal: polled only when no inbox can carry it. */
export interface StopFlags {
  request(userId: string, messageId: string): Promise<void>;
  isRequested(userId: string, messageId: string): Promise<boolean>;
}

/**
 * This container's push channel for stops (adapters/sqs/stop-inbox.ts): a streaming turn waits on it
 * instead of polling a flag, and POST /chat/stop delivers to the address the turn recorded.
 */
export interface StopInbox {
  /** The address to record on a starting turn; undefined when none can be had now (stops then poll). */
  address(): Promise<string | undefined>;
  /**
   * Waits until a stop for `messageId` arrives ('stopped'), the inbox fails ('unavailable': poll the flag
   * instead), or `signal` aborts ('ended').
   */
  listen(messageId: string, signal: AbortSignal): Promise<'stopped' | 'unavailable' | 'ended'>;
}

/** The sweeper's side: inboxes no container can still be using. */
export interface StopInboxSweeper {
  /** Deletes the inboxes created more than `maxAgeMs` before `now`; how many it deleted. */
  deleteOlderThan(now: number, maxAgeMs: number): Promise<number>;
}

/** POST /chat/stop's side of the inbox. */
export interface StopDelivery {
  deliver(address: string, messageId: string): Promise<void>;
}

/** What an Idempotency-Key of POST /chat is bound to. */
export interface IdempotencyClaim {
  readonly messageId: string;
  readonly conversationId: string;
  /** Hash of the request the key was first used with: the same key with another prompt is a conflict. */
  readonly requestHash: string;
  /** Epoch ms when the key was claimed: a claim whose turn never appeared is taken over after the longest turn. */
  readonly claimedAt: number;
}

export interface IdempotencyClaims {
  get(userId: string, key: string): Promise<IdempotencyClaim | undefined>;
  /** Claims the key; returns undefined when claimed now, or the claim that holds it already. */
  claim(userId: string, key: string, claim: IdempotencyClaim): Promise<IdempotencyClaim | undefined>;
  /** Frees the key if `messageId` still holds it, so a retry can run (after a refusal). */
  release(userId: string, key: string, messageId: string): Promise<void>;
  /** Moves the key from `previousMessageId` (whose turn never appeared) to a new claim; false if it moved already. */
  takeOver(userId: string, key: string, previousMessageId: string, claim: IdempotencyClaim): Promise<boolean>;
}

export type ModelChunk =
  | { readonly type: 'content'; readonly text: string }
  | { readonly type: 'done'; readonly finishReason: string; readonly usage?: TokenUsage };

export interface InferenceServer {
  readonly id: string;
  readonly baseUrl: string;
}

export interface CompletionRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly maxTokens: number;
  /** Aborting it cancels the upstream request (frees the GPU slot). */
  readonly signal: AbortSignal;
}

export interface ModelClient {
  /**
   * Streams a chat completion from one server. The returned promise settles when the upstream
   * has accepted the request (response headers), so refusals and connect failures surface as a
   * rejected promise with a DomainError ('upstream_error' / 'overloaded' / 'upstream_timeout').
   * The iterable then yields content chunks and ends with one 'done' chunk; a failure mid-stream
   * throws from the iterator.
   */
  stream(server: InferenceServer, request: CompletionRequest): Promise<AsyncIterable<ModelChunk>>;
}

/** Routes one admitted prompt. */
export interface ServerSelector {
  /** How many servers this prompt may try before its first token (the chosen one and its failovers). */
  readonly attempts: number;
  /** Age of the fleet view the prompt was admitted on (absent without one): a stale view is an alarm. */
  readonly viewAgeMs?: number;
  /** A server below its safe threshold, not in `exclude`; throws overloaded when none may take it. */
  pick(exclude?: ReadonlySet<string>): Promise<InferenceServer>;
  /** The refusal to give when the chosen servers themselves refused (429/503), with this caller's Retry-After. */
  overloaded(): Error;
  /** The stream sent to `server` ended: this container's own count of what it has in flight there drops. */
  release(server: InferenceServer): void;
}

/** A final turn write that could not reach the table, parked for the persister to apply. */
export type PendingTurnWrite =
  /** The in_progress record itself, when the table refused it: the turn must be durable before any 200. */
  | { readonly turn: NewTurn; readonly outcome?: undefined }
  /** The final state. */
  | { readonly turn: NewTurn; readonly outcome: TurnOutcome };

/** Durable buffer (SQS) for turn writes that failed after the SDK's own retries. */
export interface TurnWriteQueue {
  enqueue(write: PendingTurnWrite): Promise<void>;
}

/**
 * A secret held in a secret store (the fleet's API key, the origin secret CloudFront sends): read once per
 * container and cached, because a lookup per request would cost a call and latency on the hot path.
 */
export interface Secret {
  /** The accepted values, newest first: during a rotation the previous value is still accepted. */
  values(): Promise<readonly string[]>;
  /**
   * Re-reads the store (the value was rotated, a server answered 401), at most once per minimum interval
   * however often it is asked, so a flood of bad requests cannot turn into a flood of store calls.
   */
  refresh(): Promise<readonly string[]>;
}

/** Structured log sink; functions pass their logger (functions/commons/logger.ts). Never give it prompt or answer text. */
export interface Log {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
  /** Ids for every later line of the current request (a turn's message_id, once minted). */
  addRequestKeys?(keys: { readonly message_id?: string }): void;
}

/**
 * The fleet table, one view item per heartbeat shard (domain/fleet-shards.ts). A view holds its shard's
 * server loads and a replica of the fleet-wide summary (mode, load, free ratio), so a chat container
 * admits and routes with ONE small read, and no item grows with the fleet.
 */
export interface FleetRepository {
  /** One shard's view. Eventually consistent unless `consistent` (the heartbeat re-reading its own). */
  getView(
    shard: number,
    options?: { readonly consistent?: boolean; readonly signal?: AbortSignal },
  ): Promise<FleetState | undefined>;
  /** Every shard's totals, for the fleet-wide load (heartbeat aggregation); missing shards are left out. */
  getShardTotals(shards: number, options?: { readonly signal?: AbortSignal }): Promise<ShardTotals[]>;
  /**
   * Writes the view only if the stored version is still `expectedVersion` (undefined = none yet).
   * Returns false when another run of the same shard wrote first; the caller re-reads and recomputes.
   */
  saveView(
    view: FleetState,
    expectedVersion: number | undefined,
    options?: { readonly signal?: AbortSignal },
  ): Promise<boolean>;
}

/** A server as an operator registered it. `draining`: scraped, but sent no new prompt. */
export interface RegisteredServer extends InferenceServer {
  /** Concurrent sequences (batch slots plus a short queue) within the first-token objective. */
  readonly capacity: number;
  readonly status: 'active' | 'draining';
}

/** The server registry (a DynamoDB table partitioned by bucket): operators write it, the heartbeat reads it. */
export interface ServerRegistry {
  /** The servers heartbeat shard `shard` of `shards` owns. */
  listShard(
    shard: number,
    shards: number,
    options?: { readonly signal?: AbortSignal },
  ): Promise<RegisteredServer[]>;
  /** Every server (operator listing; reads every bucket). */
  listAll(): Promise<RegisteredServer[]>;
  /** Adds or replaces a server (same id: new URL or capacity). */
  put(server: RegisteredServer): Promise<void>;
  /** Sets a server's status; false when no such server. */
  setStatus(id: string, status: RegisteredServer['status']): Promise<boolean>;
  /** Removes a server; false when no such server. */
  remove(id: string): Promise<boolean>;
}

/** Reads one server's load (scrapes its Prometheus /metrics). Never throws: failures are healthy=false. */
export interface LoadProbe {
  probe(server: InferenceServer & { readonly capacity: number }): Promise<ServerLoad>;
}

export type {
  HeldSlot,
  QuotaCounter,
  QuotaDecision,
  StreamLeases,
  StreamSlot,
} from './quota-ports';
