import type { ChatRequest } from './chat-request';
import { buildContext } from './context';
import { DomainError, isDomainError } from './errors';
import type { Admission } from './fleet-gate';
import { ulid } from './ids';
import type {
  Clock,
  InferenceServer,
  Log,
  ModelChunk,
  ModelClient,
  NewTurn,
  ServerSelector,
  Tokenizer,
  TurnRepository,
  TurnWriteQueue,
} from './ports';
import type { Caller, TokenUsage, TurnOutcome } from './turn';

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
}

export interface ChatDeps {
  readonly repository: TurnRepository;
  readonly model: ModelClient;
  readonly admission: Admission;
  readonly tokenizer: Tokenizer;
  readonly writeQueue: TurnWriteQueue;
  readonly clock: Clock;
  readonly log: Log;
  readonly config: ChatConfig;
}

export type TurnEvent =
  | { readonly type: 'content'; readonly text: string }
  | {
      readonly type: 'end';
      readonly status: TurnOutcome['status'];
      /** True when the final state reached the table; false when it was parked on the write queue. */
      readonly stored: boolean;
      readonly finishReason?: string;
      readonly usage?: TokenUsage;
    }
  | { readonly type: 'error'; readonly error: DomainError; readonly stored: boolean };

export interface ActiveTurn {
  readonly messageId: string;
  readonly conversationId: string;
  readonly server: InferenceServer;
  /** The first content chunk (already received when begin() resolves), then the rest, then one end or error. */
  events(): AsyncGenerator<TurnEvent>;
}

/** How many servers a prompt may try before the first token (the chosen one plus one failover). */
const MAX_SERVER_ATTEMPTS = 2;

export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Starts a turn and resolves once the model's first token is in hand, so that every failure the
   * client can still be told about with a status code (refusal, dead server, time-out) is thrown
   * here, and a 200 is only ever sent for an answer that has started.
   */
  async begin(caller: Caller, request: ChatRequest): Promise<ActiveTurn> {
    const { clock, config, repository, tokenizer } = this.deps;
    const startedAt = clock.now();
    // First: a refused prompt costs nothing downstream (no read, no inference call, no stored turn).
    const servers = await this.deps.admission.admit(caller.tier, request.retryAttempt ?? 0);
    const conversationId = request.conversationId ?? ulid(startedAt);

    let earlier: Awaited<ReturnType<TurnRepository['listTurns']>>['turns'] = [];
    if (request.conversationId) {
      const page = await repository.listTurns(caller.userId, {
        limit: config.contextTurnsToRead,
        conversationId: request.conversationId,
      });
      earlier = page.turns;
    }
    const context = buildContext(earlier, request.prompt, config.contextTokenBudget, tokenizer);

    const turn: NewTurn = {
      userId: caller.userId,
      id: ulid(startedAt),
      conversationId,
      userMessage: request.prompt,
      createdAt: new Date(startedAt).toISOString(),
    };
    // Chosen before anything is written: a prompt refused for load costs nothing downstream.
    const firstServer = await servers.pick(new Set());
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

    try {
      const { server, iterator, first } = await this.openStream(
        context.messages,
        controller.signal,
        servers,
        firstServer,
      );
      const contextInfo = { context_turns: context.contextTurns, context_tokens: context.contextTokens };
      this.deps.log.info('first token', {
        message_id: turn.id,
        server: server.id,
        ttft_ms: clock.now() - startedAt,
        ...contextInfo,
      });
      return {
        messageId: turn.id,
        conversationId,
        server,
        events: () =>
          this.continueTurn({ ...turn, server: server.id }, first, iterator, started, controller, turnTimer),
      };
    } catch (error) {
      clearTimeout(turnTimer);
      controller.abort();
      const domainError = toDomainError(error);
      // The prompt never got an answer: record the attempt honestly (failed), then tell the client.
      await started;
      await this.finish(turn, { status: 'failed', assistantResponse: '', errorCode: domainError.code });
      throw domainError;
    }
  }

  /** Opens a stream on a chosen server and waits for its first content; fails over once before any token. */
  private async openStream(
    messages: ReturnType<typeof buildContext>['messages'],
    signal: AbortSignal,
    servers: ServerSelector,
    firstServer: InferenceServer,
  ): Promise<{ server: InferenceServer; iterator: AsyncIterator<ModelChunk>; first: ModelChunk }> {
    const { config, model } = this.deps;
    const tried = new Set<string>();
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_SERVER_ATTEMPTS; attempt++) {
      const server = attempt === 0 ? firstServer : await servers.pick(tried);
      tried.add(server.id);
      const attemptController = new AbortController();
      const onTurnAbort = () => attemptController.abort(signal.reason);
      signal.addEventListener('abort', onTurnAbort, { once: true });
      const timer = setTimeout(
        () =>
          attemptController.abort(
            new DomainError('upstream_timeout', 'The AI server did not start answering in time.'),
          ),
        config.firstTokenTimeoutMs,
      );
      try {
        const stream = await model.stream(server, {
          model: config.model,
          messages,
          maxTokens: config.maxAnswerTokens,
          signal: attemptController.signal,
        });
        const iterator = stream[Symbol.asyncIterator]();
        const first = await firstMeaningfulChunk(iterator, attemptController.signal);
        clearTimeout(timer);
        return { server, iterator, first };
      } catch (error) {
        clearTimeout(timer);
        signal.removeEventListener('abort', onTurnAbort);
        attemptController.abort();
        lastError =
          attemptController.signal.reason instanceof DomainError ? attemptController.signal.reason : error;
        this.deps.log.warn('inference attempt failed before the first token', {
          server: server.id,
          attempt,
          error: errorName(lastError),
        });
        if (signal.aborted) break;
      }
    }
    const failure = toDomainError(lastError);
    // Servers that refused for load (429/503) mean the fleet is busy: the caller's tier decides Retry-After.
    if (failure.code === 'overloaded') throw servers.overloaded();
    throw failure;
  }

  private async *continueTurn(
    turn: NewTurn,
    first: ModelChunk,
    iterator: AsyncIterator<ModelChunk>,
    started: Promise<boolean>,
    controller: AbortController,
    turnTimer: ReturnType<typeof setTimeout>,
  ): AsyncGenerator<TurnEvent> {
    let answer = '';
    let finishReason: string | undefined;
    let usage: TokenUsage | undefined;
    try {
      let chunk: ModelChunk | undefined = first;
      while (chunk) {
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
      clearTimeout(turnTimer);
      controller.abort();
      const domainError = toDomainError(
        controller.signal.reason instanceof DomainError ? controller.signal.reason : error,
      );
      await started;
      // A cut-off answer is never marked completed: the partial text is kept on a failed turn only.
      const stored = await this.finish(turn, {
        status: 'failed',
        assistantResponse: answer,
        errorCode: domainError.code,
      });
      yield { type: 'error', error: domainError, stored };
      return;
    }
    clearTimeout(turnTimer);
    await started;
    const outcome: TurnOutcome = {
      status: 'completed',
      assistantResponse: answer,
      finishReason,
      ...(usage ? { usage } : {}),
      updatedAt: new Date(this.deps.clock.now()).toISOString(),
    };
    const stored = await this.finish(turn, outcome);
    yield { type: 'end', status: 'completed', stored, finishReason, ...(usage ? { usage } : {}) };
  }

  /**
   * Applies the final state. If the table refuses after the SDK's retries, the whole turn goes to the
   * durable queue (the persister applies it later); only if that fails too is the error raised.
   * Returns true when the table has it now, false when it is parked on the queue.
   */
  private async finish(turn: NewTurn, outcome: Omit<TurnOutcome, 'updatedAt'> & { updatedAt?: string }) {
    const full: TurnOutcome = {
      ...outcome,
      updatedAt: outcome.updatedAt ?? new Date(this.deps.clock.now()).toISOString(),
    };
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

async function firstMeaningfulChunk(
  iterator: AsyncIterator<ModelChunk>,
  signal: AbortSignal,
): Promise<ModelChunk> {
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const next = await iterator.next();
    if (next.done)
      throw new DomainError('upstream_error', 'The AI server closed the stream without an answer.');
    if (next.value.type === 'done' || next.value.text.length > 0) return next.value;
  }
}

function toDomainError(error: unknown): DomainError {
  if (isDomainError(error)) return error;
  return new DomainError('upstream_error', 'The AI server failed to answer.');
}

export function errorName(error: unknown): string {
  if (isDomainError(error)) return error.code;
  if (error instanceof Error) return error.name;
  return typeof error;
}
