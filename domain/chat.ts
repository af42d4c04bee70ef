import { createHash } from 'node:crypto';
import type { ChatRequest } from './chat-request';
import { buildContext } from './context';
import { DomainError, errorName, isDomainError } from './errors';
import { openFirstToken, toDomainError } from './first-token';
import type { Admission } from './fleet-gate';
import { replayClaim, stillAnswering } from './idempotent-replay';
import { ulid } from './ids';
import type {
  Clock,
  IdempotencyClaim,
  IdempotencyClaims,
  InferenceServer,
  Log,
  ModelChunk,
  ModelClient,
  NewTurn,
  ServerSelector,
  StopFlags,
  Tokenizer,
  TurnRepository,
  TurnWriteQueue,
} from './ports';
import type { Caller, TokenUsage, Turn, TurnOutcome } from './turn';

export interface ChatConfig {
  readonly model: string;
  /** Earlier turns of the conversation sent as context, in tokens. */
  readonly contextTokenBudget: number;
  /** How many earlier turns are read to fill the budget. */
  readonly contextTurnsToRead: number;
  /** Cap on the answer's length (max_tokens). */
  readonly maxAnswerTokens: number;
  /** From sending the request to the first content token, per server tried. */
  readonly firstTokenTimeoutMs: number;
  /** Wall-time cap of a whole turn: a stream that runs longer is cut and the turn marked failed. */
  readonly maxTurnMs: number;
  /** How often a streaming turn checks whether its owner pressed stop. */
  readonly stopPollMs: number;
}

export interface ChatDeps {
  readonly repository: TurnRepository;
  readonly model: ModelClient;
  readonly admission: Admission;
  readonly tokenizer: Tokenizer;
  readonly writeQueue: TurnWriteQueue;
  readonly stopFlags: StopFlags;
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
  /** The first content chunk (already received when begin() resolves), then the rest, then one end or error. */
  events(): AsyncGenerator<TurnEvent>;
}

/** How long, once the first token is in hand, the in_progress write may still take before the start is parked. */
const START_WRITE_GRACE_MS = 250;

/** Abort reason when the owner pressed stop: not an error, the turn ends `stopped`. */
const STOPPED = Symbol('stopped');

export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Starts a turn and resolves once the model's first token is in hand, so that every failure the
   * client can still be told about with a status code (refusal, dead server, time-out) is thrown
   * here, and a 200 is only ever sent for an answer that has started.
   */
  async begin(caller: Caller, request: ChatRequest): Promise<ActiveTurn> {
    const startedAt = this.deps.clock.now();
    const requestHash = hashRequest(request);

    // A retry with a known key never starts a second inference: it gets what the first attempt became.
    let abandoned: IdempotencyClaim | undefined;
    if (request.idempotencyKey) {
      const existing = await this.deps.idempotency.get(caller.userId, request.idempotencyKey);
      if (existing) {
        const replayed = await replayClaim(this.deps, caller, existing, requestHash);
        if (replayed) return replayed;
        abandoned = existing;
      }
    }

    // A refused prompt costs nothing downstream: no read, no inference call, no stored turn.
    const servers = await this.deps.admission.admit(caller.tier, request.retryAttempt ?? 0);
    const firstServer = await servers.pick(new Set());

    const turn: NewTurn = {
      userId: caller.userId,
      id: ulid(startedAt),
      conversationId: request.conversationId ?? ulid(startedAt),
      userMessage: request.prompt,
      createdAt: new Date(startedAt).toISOString(),
    };
    const key = request.idempotencyKey;
    if (!key) return this.start(turn, request, servers, firstServer, startedAt);

    const claim = {
      messageId: turn.id,
      conversationId: turn.conversationId,
      requestHash,
      claimedAt: startedAt,
    };
    if (abandoned) {
      // The attempt that held the key died before its turn was ever recorded: this retry takes the key over.
      const tookOver = await this.deps.idempotency.takeOver(caller.userId, key, abandoned.messageId, claim);
      if (!tookOver) throw stillAnswering();
    } else {
      const holder = await this.deps.idempotency.claim(caller.userId, key, claim);
      if (holder) {
        const replayed = await replayClaim(this.deps, caller, holder, requestHash);
        if (!replayed) throw stillAnswering();
        return replayed;
      }
    }
    try {
      return await this.start(turn, request, servers, firstServer, startedAt);
    } catch (error) {
      // A refusal for load (or our own failure) is something the client is told to retry with the same key:
      // free the key so that retry runs. A failed answer stays bound to it and replays as the same failure.
      const replayable =
        isDomainError(error) && (error.code === 'upstream_error' || error.code === 'upstream_timeout');
      if (!replayable) {
        await this.deps.idempotency.release(caller.userId, key, turn.id).catch((releaseError: unknown) => {
          this.deps.log.warn('idempotency key release failed', {
            message_id: turn.id,
            error: errorName(releaseError),
          });
        });
      }
      throw error;
    }
  }

  /** Runs an admitted turn up to its first token (see begin). */
  private async start(
    turn: NewTurn,
    request: ChatRequest,
    servers: ServerSelector,
    firstServer: InferenceServer,
    startedAt: number,
  ): Promise<ActiveTurn> {
    const { clock, config, repository, tokenizer } = this.deps;
    let earlier: Turn[] = [];
    if (request.conversationId) {
      const page = await repository.listTurns(turn.userId, {
        limit: config.contextTurnsToRead,
        conversationId: request.conversationId,
      });
      earlier = page.turns;
    }
    const context = buildContext(earlier, request.prompt, config.contextTokenBudget, tokenizer);

    const controller = new AbortController();
    const turnTimer = setTimeout(
      () =>
        controller.abort(new DomainError('upstream_timeout', 'The answer took too long and was cut off.')),
      config.maxTurnMs,
    );

    // The in_progress write runs concurrently with the upstream request: it must not delay the first token.
    const started = repository.startTurn(turn).then(
      () => true,
      (error: unknown) => {
        this.deps.log.warn('turn start write failed; the final write will create the turn', {
          message_id: turn.id,
          error: errorName(error),
        });
        return false;
      },
    );
    let stopPoller: ReturnType<typeof setInterval> | undefined;
    let streamingOn: InferenceServer | undefined;
    const release = () => {
      clearTimeout(turnTimer);
      clearInterval(stopPoller);
      if (streamingOn) servers.release(streamingOn);
      streamingOn = undefined;
    };

    try {
      const { server, iterator, first } = await openFirstToken(this.deps, {
        messages: context.messages,
        signal: controller.signal,
        servers,
        firstServer,
      });
      streamingOn = server;
      await this.ensureDurable(turn, started);
      // Only now can the client know the message id and ask to stop: polling before would be wasted reads.
      stopPoller = this.pollStop(turn, controller);
      this.deps.log.info('first token', {
        message_id: turn.id,
        server: server.id,
        ttft_ms: clock.now() - startedAt,
        context_turns: context.contextTurns,
        context_tokens: context.contextTokens,
      });
      const live = { ...turn, server: server.id };
      return {
        messageId: turn.id,
        conversationId: turn.conversationId,
        serverId: server.id,
        events: () => this.continueTurn(live, first, iterator, started, controller, release),
      };
    } catch (error) {
      release();
      controller.abort();
      const domainError = toDomainError(error);
      await started;
      if (domainError.code === 'overloaded') {
        // Every server refused for load: like a prompt refused at admission, it leaves no turn behind.
        await this.deps.repository.discardTurn(turn.userId, turn.id);
        throw domainError;
      }
      // The prompt never got an answer: record the attempt honestly (failed), then tell the client.
      await this.finish(turn, { status: 'failed', assistantResponse: '', errorCode: domainError.code });
      throw domainError;
    }
  }

  /** Checks the stop flag on a timer, so a stop is noticed even while the server is silent. */
  private pollStop(turn: NewTurn, controller: AbortController): ReturnType<typeof setInterval> {
    let checking = false;
    const timer = setInterval(() => {
      if (checking || controller.signal.aborted) return;
      checking = true;
      this.deps.stopFlags
        .isRequested(turn.userId, turn.id)
        .then((stop) => {
          if (stop && !controller.signal.aborted) controller.abort(STOPPED);
        })
        .catch((error: unknown) => {
          this.deps.log.warn('stop flag check failed', { message_id: turn.id, error: errorName(error) });
        })
        .finally(() => {
          checking = false;
        });
    }, this.deps.config.stopPollMs);
    return timer;
  }

  /**
   * Before any 200 leaves, the turn must be durable: in the table, or parked on the queue for the persister.
   * The in_progress write normally landed long before the first token; if it failed or is still being
   * retried after a short grace, the start itself is parked. If even that fails, the client gets an error,
   * not a stream that history would never show.
   */
  private async ensureDurable(turn: NewTurn, started: Promise<boolean>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const landed = await Promise.race([
      started,
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), START_WRITE_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    if (landed) return;
    this.deps.log.warn('turn start not in the table yet; parking it on the write queue', {
      message_id: turn.id,
    });
    try {
      await this.deps.writeQueue.enqueue({ turn });
    } catch (error) {
      this.deps.log.error('turn start could not be made durable', {
        message_id: turn.id,
        error: errorName(error),
      });
      throw new DomainError('internal_error', 'The conversation could not be saved; please try again.');
    }
  }

  private async *continueTurn(
    turn: NewTurn,
    first: ModelChunk,
    iterator: AsyncIterator<ModelChunk>,
    started: Promise<boolean>,
    controller: AbortController,
    release: () => void,
  ): AsyncGenerator<TurnEvent> {
    let answer = '';
    let finishReason: string | undefined;
    let usage: TokenUsage | undefined;
    try {
      let chunk: ModelChunk | undefined = first;
      while (chunk) {
        if (controller.signal.aborted) throw controller.signal.reason;
        if (chunk.type === 'content') {
          answer += chunk.text;
          yield { type: 'content', text: chunk.text };
        } else {
          finishReason = chunk.finishReason;
          usage = chunk.usage;
          break;
        }
        const next: IteratorResult<ModelChunk> = await iterator.next();
        chunk = next.done ? undefined : next.value;
      }
      if (finishReason === undefined) {
        throw new DomainError('upstream_error', 'The AI server ended the answer without finishing it.');
      }
    } catch (error) {
      release();
      const reason: unknown = controller.signal.reason;
      controller.abort();
      // Close the upstream request at once: a stopped or failed answer must free its GPU slot.
      await iterator.return?.().catch(() => undefined);
      await started;
      if (reason === STOPPED) {
        // The partial answer is kept, flagged stopped: the user chose to end it.
        const stored = await this.finish(turn, {
          status: 'stopped',
          assistantResponse: answer,
          finishReason: 'stop_requested',
        });
        yield { type: 'end', status: 'stopped', stored, finishReason: 'stop_requested' };
        return;
      }
      const domainError = toDomainError(reason instanceof DomainError ? reason : error);
      // A cut-off answer is never marked completed: the partial text is kept on a failed turn only.
      const stored = await this.finish(turn, {
        status: 'failed',
        assistantResponse: answer,
        errorCode: domainError.code,
      });
      yield { type: 'error', error: domainError, stored };
      return;
    }
    release();
    await started;
    const outcome = {
      status: 'completed' as const,
      assistantResponse: answer,
      finishReason,
      ...(usage ? { usage } : {}),
    };
    const stored = await this.finish(turn, outcome);
    yield { type: 'end', status: 'completed', stored, finishReason, ...(usage ? { usage } : {}) };
  }

  /**
   * Applies the final state. If the table refuses after the SDK's retries, the whole turn goes to the
   * durable queue (the persister applies it later); only if that fails too is the error raised.
   * Returns true when the table has it now, false when it is parked on the queue.
   */
  private async finish(turn: NewTurn, outcome: Omit<TurnOutcome, 'updatedAt'>): Promise<boolean> {
    const full: TurnOutcome = { ...outcome, updatedAt: new Date(this.deps.clock.now()).toISOString() };
    try {
      await this.deps.repository.finishTurn(turn, full);
      return true;
    } catch (error) {
      this.deps.log.warn('final turn write failed; parking it on the write queue', {
        message_id: turn.id,
        error: errorName(error),
      });
      await this.deps.writeQueue.enqueue({ turn, outcome: full });
      return false;
    }
  }
}

/** What makes two POST /chat requests "the same" for an Idempotency-Key. */
function hashRequest(request: ChatRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([request.prompt, request.conversationId ?? null]))
    .digest('hex');
}
