/**
 * A started turn from its first token to its end: every token to the client, stop and failure handling
 * (the upstream request is closed at once, freeing its GPU slot), and the final write, parked on the
 * durable queue when the table refuses. A cut-off answer is never stored as completed.
 */
import { type Context, messageTokensOf } from '../domain/context';
import { DomainError, errorName } from '../domain/errors';
import type { ModelChunk, NewTurn } from '../domain/ports';
import type { TokenUsage, TurnOutcome } from '../domain/turn';
import type { ChatDeps, TurnEvent } from './chat-turn';
import { toDomainError } from './first-token';
import { STOPPED } from './stop-polling';

export async function* streamTurn(
  deps: ChatDeps,
  turn: NewTurn,
  context: Pick<Context, 'tokensBeforePrompt' | 'oldestTurnId' | 'fromClient'>,
  first: ModelChunk,
  iterator: AsyncIterator<ModelChunk>,
  started: Promise<boolean>,
  controller: AbortController,
  release: () => void,
): AsyncGenerator<TurnEvent> {
  let answer = '';
  let answerBytes = 0;
  let finishReason: string | undefined;
  let usage: TokenUsage | undefined;
  try {
    let chunk: ModelChunk | undefined = first;
    while (chunk) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (chunk.type === 'content') {
        const bytes = Buffer.byteLength(chunk.text);
        if (answerBytes + bytes > deps.config.maxAnswerBytes) {
          // More than one item can hold: keep and show what fits, then end the turn failed, never completed.
          const fits = utf8Prefix(chunk.text, deps.config.maxAnswerBytes - answerBytes);
          answer += fits;
          if (fits) yield { type: 'content', text: fits };
          throw new DomainError('answer_too_long', 'The answer was too long to keep and was cut off.');
        }
        answerBytes += bytes;
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
      const stored = await finishTurn(deps, turn, {
        status: 'stopped',
        assistantResponse: answer,
        finishReason: 'stop_requested',
      });
      yield { type: 'end', status: 'stopped', stored, finishReason: 'stop_requested' };
      return;
    }
    const domainError = toDomainError(reason instanceof DomainError ? reason : error);
    // A cut-off answer is never marked completed: the partial text is kept on a failed turn only.
    const stored = await finishTurn(deps, turn, {
      status: 'failed',
      assistantResponse: answer,
      errorCode: domainError.code,
    });
    yield { type: 'error', error: domainError, stored };
    return;
  }
  release();
  await started;
  // What the server counted, kept so that the turns after this one count it as context (domain/context.ts).
  const messageTokens = messageTokensOf(context, usage, turn.userMessage);
  const outcome = {
    status: 'completed' as const,
    assistantResponse: answer,
    finishReason,
    ...(usage ? { usage } : {}),
    ...(messageTokens === undefined ? {} : { messageTokens }),
    // Counts over a client's own messages say nothing about the stored turns: no contextFrom then.
    ...(context.fromClient ? {} : { contextFrom: context.oldestTurnId ?? turn.id }),
  };
  const stored = await finishTurn(deps, turn, outcome);
  yield { type: 'end', status: 'completed', stored, finishReason, ...(usage ? { usage } : {}) };
}

/**
 * Applies the final state. If the table refuses after the SDK's retries, the whole turn goes to the
 * durable queue (the persister applies it later); only if that fails too is the error raised.
 * Returns true when the table has it now, false when it is parked on the queue.
 */
export async function finishTurn(
  deps: Pick<ChatDeps, 'repository' | 'writeQueue' | 'clock' | 'log'>,
  turn: NewTurn,
  outcome: Omit<TurnOutcome, 'updatedAt'>,
): Promise<boolean> {
  const full: TurnOutcome = { ...outcome, updatedAt: new Date(deps.clock.now()).toISOString() };
  try {
    await deps.repository.finishTurn(turn, full);
    return true;
  } catch (error) {
    deps.log.warn('final turn write failed; parking it on the write queue', {
      message_id: turn.id,
      error: errorName(error),
    });
    await deps.writeQueue.enqueue({ turn, outcome: full });
    return false;
  }
}

/** The longest prefix of `text` whose UTF-8 form fits in `maxBytes`, cut between code points. */
export function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}
