/**
 * An admitted turn up to its first token: the context, the in_progress write (run beside the upstream
 * request, never in front of it), the first token with failover, durability before any 200, the stop watch.
 */
import type { ChatRequest } from '../domain/chat-request';
import { buildContext, clientContext } from '../domain/context';
import { DomainError, errorName } from '../domain/errors';
import type { InferenceServer, NewTurn, ServerSelector } from '../domain/ports';
import type { ActiveTurn, ChatDeps } from './chat-turn';
import { contextTurns, recordConversationTurn } from './conversation-context';
import { openFirstToken, toDomainError } from './first-token';
import { watchForStop } from './stop-polling';
import { finishTurn, streamTurn } from './stream-turn';

/** How long, once the first token is in hand, the in_progress write may still take before the start is parked. */
const START_WRITE_GRACE_MS = 250;

/** Runs an admitted turn up to its first token (see ChatService.begin). */
export async function openTurn(
  deps: ChatDeps,
  turn: NewTurn,
  request: ChatRequest,
  servers: ServerSelector,
  firstServer: InferenceServer,
  startedAt: number,
  /** Resolves once the turn may be written (its Idempotency-Key is ours); rejecting, the turn is not ours. */
  claim: Promise<void> = Promise.resolve(),
): Promise<ActiveTurn> {
  const { clock, config } = deps;
  // A new conversation cannot have context: its record runs beside the upstream request. A named one's
  // record says whether it still exists, since when, and which turns are its newest: those are the context.
  // A client that sends its own earlier messages (the OpenAI protocol) gets those, and no stored turn is read.
  const recorded = recordConversationTurn(deps, turn);
  const context = request.history
    ? clientContext(request.history, request.prompt)
    : buildContext(
        request.conversationId ? await contextTurns(deps, turn, await recorded) : [],
        request.prompt,
        config.contextTokenBudget,
      );

  const controller = new AbortController();
  const turnTimer = setTimeout(
    () => controller.abort(new DomainError('upstream_timeout', 'The answer took too long and was cut off.')),
    config.maxTurnMs,
  );

  // The in_progress write runs concurrently with the upstream request: it must not delay the first token.
  // It records this container's stop inbox (created once per container, so normally at hand).
  let inboxRecorded = false;
  const started = claim.then(
    () =>
      deps.stopInbox
        .address()
        .then(async (stopInbox) => {
          await deps.repository.startTurn(stopInbox === undefined ? turn : { ...turn, stopInbox });
          inboxRecorded = stopInbox !== undefined;
          return true;
        })
        .catch((error: unknown) => {
          deps.log.warn('turn start write failed; the final write will create the turn', {
            message_id: turn.id,
            error: errorName(error),
          });
          return false;
        }),
    // Not this attempt's turn: nothing is written (the catch below rethrows the claim's reason).
    () => false,
  );
  let stopWatch: (() => void) | undefined;
  let streamingOn: InferenceServer | undefined;
  const release = () => {
    clearTimeout(turnTimer);
    stopWatch?.();
    if (streamingOn) servers.release(streamingOn);
    streamingOn = undefined;
  };

  try {
    const { server, iterator, first } = await openFirstToken(deps, {
      messages: context.messages,
      signal: controller.signal,
      servers,
      firstServer,
    });
    streamingOn = server;
    await recorded;
    await claim;
    await ensureDurable(deps, turn, started);
    // Only now can the client know the message id and ask to stop. A start parked on the queue is not
    // in the table, so POST /chat/stop cannot find its inbox: that turn polls the stop flag.
    stopWatch = watchForStop(deps, turn, controller, inboxRecorded);
    const live = { ...turn, server: server.id };
    return {
      messageId: turn.id,
      conversationId: turn.conversationId,
      serverId: server.id,
      // Logged once, when the turn ends (functions/http/chat-responses.ts): one line per turn.
      opening: {
        ttftMs: clock.now() - startedAt,
        contextTurns: context.contextTurns,
        contextTokens: context.contextTokens,
        contextEstimatedTurns: context.estimatedTurns,
        ...(servers.viewAgeMs !== undefined && { viewAgeMs: servers.viewAgeMs }),
      },
      events: () => streamTurn(deps, live, context, first, iterator, started, controller, release),
    };
  } catch (error) {
    release();
    controller.abort();
    await recorded;
    // If the key is another attempt's, that is the answer (a replay or its reason), not this failure.
    await claim;
    const domainError = toDomainError(error);
    await started;
    if (domainError.code === 'overloaded') {
      // Every server refused for load: like a prompt refused at admission, it leaves no turn behind.
      await deps.repository.discardTurn(turn.userId, turn.id);
      throw domainError;
    }
    // The prompt never got an answer: record the attempt honestly (failed), then tell the client.
    await finishTurn(deps, turn, { status: 'failed', assistantResponse: '', errorCode: domainError.code });
    throw domainError;
  }
}

/**
 * Before any 200 leaves, the turn must be durable: in the table, or parked on the queue for the persister.
 * The in_progress write normally landed long before the first token; if it failed or is still being
 * retried after a short grace, the start itself is parked. If even that fails, the client gets an error,
 * not a stream that history would never show.
 */
async function ensureDurable(deps: ChatDeps, turn: NewTurn, started: Promise<boolean>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const landed = await Promise.race([
    started,
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), START_WRITE_GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (landed) return;
  deps.log.warn('turn start not in the table yet; parking it on the write queue', {
    message_id: turn.id,
  });
  try {
    await deps.writeQueue.enqueue({ turn });
  } catch (error) {
    deps.log.error('turn start could not be made durable', {
      message_id: turn.id,
      error: errorName(error),
    });
    throw new DomainError('internal_error', 'The conversation could not be saved; please try again.');
  }
}
