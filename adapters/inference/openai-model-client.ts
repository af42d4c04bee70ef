import type { ReadableStreamReadResult } from 'node:stream/web';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { DomainError } from '../../domain/errors';
import type { CompletionRequest, InferenceServer, ModelChunk, ModelClient } from '../../domain/ports';

export interface OpenAiModelClientOptions {
  /** Until the response headers arrive. */
  readonly connectTimeoutMs: number;
  /** Longest silence between two chunks once streaming: a stalled server fails the turn instead of hanging. */
  readonly idleTimeoutMs: number;
  readonly fetch?: typeof fetch;
}

interface CompletionChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** Talks the OpenAI chat-completions streaming protocol to vLLM, TGI, llama.cpp or SGLang servers. */
export class OpenAiModelClient implements ModelClient {
  constructor(private readonly options: OpenAiModelClientOptions) {}

  async stream(server: InferenceServer, request: CompletionRequest): Promise<AsyncIterable<ModelChunk>> {
    const controller = new AbortController();
    const abortFromCaller = () => controller.abort(request.signal.reason);
    if (request.signal.aborted) throw request.signal.reason;
    request.signal.addEventListener('abort', abortFromCaller, { once: true });
    const connectTimer = setTimeout(
      () => controller.abort(new DomainError('upstream_timeout', 'The AI server did not answer in time.')),
      this.options.connectTimeoutMs,
    );
    let response: Response;
    try {
      // The global fetch is looked up here, not at construction: touching it loads undici (~10 ms), which
      // a cold start refused at admission never needs.
      const fetchImpl = this.options.fetch ?? fetch;
      response = await fetchImpl(`${server.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxTokens,
          stream: true,
          stream_options: { include_usage: true },
        }),
        signal: controller.signal,
      });
    } catch (error) {
      request.signal.removeEventListener('abort', abortFromCaller);
      throw controller.signal.reason instanceof DomainError
        ? controller.signal.reason
        : new DomainError('upstream_error', 'The AI server could not be reached.', {
            cause: errorText(error),
          });
    } finally {
      clearTimeout(connectTimer);
    }
    if (!response.ok || !response.body) {
      request.signal.removeEventListener('abort', abortFromCaller);
      await response.body?.cancel().catch(() => undefined);
      // 429/503 are a busy server's refusals (vLLM bounded queue, TGI, llama.cpp): the caller may fail over.
      const refused = response.status === 429 || response.status === 503;
      throw new DomainError(refused ? 'overloaded' : 'upstream_error', 'The AI server refused the request.', {
        upstream_status: response.status,
      });
    }
    return this.chunks(response.body, controller, () =>
      request.signal.removeEventListener('abort', abortFromCaller),
    );
  }

  private async *chunks(
    body: ReadableStream<Uint8Array>,
    controller: AbortController,
    cleanup: () => void,
  ): AsyncGenerator<ModelChunk> {
    const pending: ModelChunk[] = [];
    let finishReason: string | undefined;
    let usage: { promptTokens: number; completionTokens: number } | undefined;
    let finished = false;
    let streamError: DomainError | undefined;
    const parser = createParser({
      onEvent: (event: EventSourceMessage) => {
        if (event.data === '[DONE]') {
          finished = true;
          return;
        }
        let parsed: CompletionChunk;
        try {
          parsed = JSON.parse(event.data) as CompletionChunk;
        } catch {
          streamError = new DomainError('upstream_error', 'The AI server sent an unreadable chunk.');
          return;
        }
        if (parsed.error) {
          streamError = new DomainError('upstream_error', 'The AI server reported an error mid-answer.');
          return;
        }
        const choice = parsed.choices?.[0];
        const text = choice?.delta?.content;
        if (text) pending.push({ type: 'content', text });
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (parsed.usage) {
          usage = {
            promptTokens: parsed.usage.prompt_tokens ?? 0,
            completionTokens: parsed.usage.completion_tokens ?? 0,
          };
        }
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const armIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(
        () =>
          controller.abort(new DomainError('upstream_timeout', 'The AI server stopped sending the answer.')),
        this.options.idleTimeoutMs,
      );
    };
    try {
      armIdle();
      while (!finished) {
        let read: ReadableStreamReadResult<Uint8Array>;
        try {
          read = await reader.read();
        } catch (error) {
          throw controller.signal.reason instanceof DomainError
            ? controller.signal.reason
            : new DomainError('upstream_error', 'The connection to the AI server broke mid-answer.', {
                cause: errorText(error),
              });
        }
        if (read.done) break;
        armIdle();
        parser.feed(decoder.decode(read.value, { stream: true }));
        if (streamError) throw streamError;
        while (pending.length > 0) {
          const chunk = pending.shift();
          if (chunk) yield chunk;
        }
      }
      if (!finished && finishReason === undefined) {
        throw new DomainError('upstream_error', 'The AI server closed the connection mid-answer.');
      }
      yield { type: 'done', finishReason: finishReason ?? 'stop', ...(usage ? { usage } : {}) };
    } finally {
      clearTimeout(idleTimer);
      cleanup();
      // Stops the upstream generation if the consumer gave up early (caps, stop, errors).
      if (!finished) controller.abort();
      reader.releaseLock();
    }
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return cause?.code ?? error.name;
  }
  return 'unknown';
}
