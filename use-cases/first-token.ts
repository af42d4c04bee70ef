/**
 * From an admitted prompt to its first content: the request to the chosen server, the first-token
 * time-out, and failover to other servers before any token (tokens already shown cannot be retried).
 */

import { DomainError, errorName, isDomainError } from '../domain/errors';
import type { InferenceServer, Log, ModelChunk, ModelClient, ServerSelector } from '../domain/ports';
import type { ChatMessage } from '../domain/turn';
import type { ChatConfig } from './chat-turn';

export interface FirstTokenDeps {
  readonly model: ModelClient;
  readonly log: Log;
  readonly config: Pick<ChatConfig, 'model' | 'maxAnswerTokens' | 'firstTokenTimeoutMs'>;
}

export interface FirstTokenAttempt {
  readonly messages: ChatMessage[];
  /** The turn's own signal: aborting it (stop, turn time-out) ends every attempt. */
  readonly signal: AbortSignal;
  readonly servers: ServerSelector;
  readonly firstServer: InferenceServer;
}

/**
 * Opens a stream on a chosen server and waits for its first content. Before any token it fails over:
 * once after any failure, and on to `servers.attempts` servers while they refuse for load (a full
 * server answers 429/503 at once; a slow or dead one has already cost a time-out). When no server may
 * take the one failover, the prompt is refused for load; past it, the last server's failure stands.
 */
export async function openFirstToken(
  deps: FirstTokenDeps,
  attempt: FirstTokenAttempt,
): Promise<{ server: InferenceServer; iterator: AsyncIterator<ModelChunk>; first: ModelChunk }> {
  const { config, model } = deps;
  const { messages, signal, servers, firstServer } = attempt;
  const tried = new Set<string>();
  let lastError: unknown;
  for (let attempt = 0; attempt < servers.attempts; attempt++) {
    if (attempt >= 2 && toDomainError(lastError).code !== 'overloaded') break;
    let server = firstServer;
    if (attempt > 0) {
      try {
        server = await servers.pick(tried);
      } catch (error) {
        // No server for the one failover: refused like at admission. Past it, the last failure stands.
        if (attempt === 1) throw error;
        break;
      }
    }
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
      servers.release(server);
      lastError =
        attemptController.signal.reason instanceof DomainError ? attemptController.signal.reason : error;
      const failure = toDomainError(lastError);
      if (failure.code === 'upstream_auth') {
        // The key is the fleet's, not this server's: failing over would only be refused again.
        deps.log.error('inference server refused the API key', {
          server: server.id,
          upstream_status: failure.details.upstream_status ?? 401,
          key_renewed: failure.details.key_renewed ?? false,
        });
        break;
      }
      deps.log.warn('inference attempt failed before the first token', {
        server: server.id,
        attempt,
        error: errorName(lastError),
      });
      // Our own failure (the key could not be read) is the same on every server.
      if (signal.aborted || failure.code === 'internal_error') break;
    }
  }
  const failure = toDomainError(lastError);
  // Servers that refused for load (429/503) mean the fleet is busy: the caller's tier decides Retry-After.
  if (failure.code === 'overloaded') throw servers.overloaded();
  throw failure;
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

export function toDomainError(error: unknown): DomainError {
  if (isDomainError(error)) return error;
  return new DomainError('upstream_error', 'The AI server failed to answer.');
}
