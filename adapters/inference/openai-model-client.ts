import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { INTERNAL_ERROR_MESSAGE } from '../../contract/errors';
import { DomainError } from '../../domain/errors';
import type { CompletionRequest, InferenceServer, ModelChunk, ModelClient } from '../../domain/ports';
import { bearer, type FleetApiKey } from './fleet-api-key';

export interface OpenAiModelClientOptions {
  /** Until the response headers arrive. */
  readonly connectTimeoutMs: number;
  /** Longest silence between two chunks once streaming: a stalled server fails the turn instead of hanging. */
  readonly idleTimeoutMs: number;
  /** The servers' bearer key (`--api-key`); without it no Authorization header is sent. */
  readonly apiKey?: FleetApiKey;
}

interface CompletionChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

/** More chunks than this waiting for a slow reader pause the socket (backpressure up to the server). */
const HIGH_WATER_CHUNKS = 64;

/**
 * Talks the OpenAI chat-completions streaming protocol to vLLM, TGI, llama.cpp or SGLang servers, over
 * node:http(s) with keep-alive connections. Not fetch: its web streams cost several promises per chunk,
 * and a chunk is one token, so the socket's own events are read here directly.
 */
export class OpenAiModelClient implements ModelClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });

  constructor(private readonly options: OpenAiModelClientOptions) {}

  async stream(server: InferenceServer, request: CompletionRequest): Promise<AsyncIterable<ModelChunk>> {
    if (request.signal.aborted) throw request.signal.reason;
    const apiKey = this.options.apiKey;
    // Once held, the key is a field read: no promise, no store call per request.
    const key = !apiKey || apiKey.ready ? apiKey?.current : await firstKey(apiKey);
    const controller = new AbortController();
    const abortFromCaller = () => controller.abort(request.signal.reason);
    request.signal.addEventListener('abort', abortFromCaller, { once: true });
    const cleanup = () => request.signal.removeEventListener('abort', abortFromCaller);
    const connectTimer = setTimeout(
      () => controller.abort(new DomainError('upstream_timeout', 'The AI server did not answer in time.')),
      this.options.connectTimeoutMs,
    );
    const url = `${server.baseUrl}/v1/chat/completions`;
    let response: IncomingMessage;
    let renewed = false;
    try {
      response = await this.post(url, request, key, controller.signal);
      if (response.statusCode === 401 && apiKey) {
        // The key may have been rotated: one refresh (rate-limited by the Secret) and one retry if it changed.
        response.resume();
        const next = await apiKey.renewAfter(key).catch(() => undefined);
        if (next !== undefined) {
          renewed = true;
          response = await this.post(url, request, next, controller.signal);
        }
      }
    } catch (error) {
      cleanup();
      throw controller.signal.reason instanceof DomainError
        ? controller.signal.reason
        : new DomainError('upstream_error', 'The AI server could not be reached.', {
            cause: errorText(error),
          });
    } finally {
      clearTimeout(connectTimer);
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      cleanup();
      response.resume();
      if (status === 401) {
        // A wrong key is wrong for every server: the caller must not fail over (nor retry) on it.
        throw new DomainError('upstream_auth', 'The model could not answer.', {
          upstream_status: status,
          key_renewed: renewed,
        });
      }
      // 429/503 are a busy server's refusals (vLLM bounded queue, TGI, llama.cpp): the caller may fail over.
      const refused = status === 429 || status === 503;
      throw new DomainError(refused ? 'overloaded' : 'upstream_error', 'The AI server refused the request.', {
        upstream_status: status,
      });
    }
    return this.chunks(response, controller, cleanup);
  }

  /** Resolves with the response once its headers arrived; aborting `signal` destroys the request. */
  private post(
    url: string,
    request: CompletionRequest,
    key: string | undefined,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const target = new URL(url);
    const https = target.protocol === 'https:';
    const body = JSON.stringify({
      model: request.model,
      messages: request.messages,
      max_tokens: request.maxTokens,
      stream: true,
      stream_options: { include_usage: true },
    });
    return new Promise((resolveResponse, rejectResponse) => {
      const options = {
        method: 'POST',
        agent: https ? this.httpsAgent : this.httpAgent,
        signal,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'content-length': Buffer.byteLength(body),
          ...bearer(key),
        },
      };
      const req: ClientRequest = https
        ? httpsRequest(target, options, resolveResponse)
        : httpRequest(target, options, resolveResponse);
      req.on('error', rejectResponse);
      req.end(body);
    });
  }

  private async *chunks(
    response: IncomingMessage,
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

    // One idle timer for the whole stream, re-armed only when it fires early: no timer churn per token.
    let lastDataAt = Date.now();
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const checkIdle = () => {
      const quietMs = Date.now() - lastDataAt;
      if (quietMs < this.options.idleTimeoutMs) {
        idleTimer = setTimeout(checkIdle, this.options.idleTimeoutMs - quietMs);
        return;
      }
      controller.abort(new DomainError('upstream_timeout', 'The AI server stopped sending the answer.'));
    };
    idleTimer = setTimeout(checkIdle, this.options.idleTimeoutMs);

    let ended = false;
    let broken: unknown;
    let wake: (() => void) | undefined;
    const onData = (text: string) => {
      lastDataAt = Date.now();
      parser.feed(text);
      if (pending.length > HIGH_WATER_CHUNKS) response.pause();
      wake?.();
    };
    const onEnd = () => {
      ended = true;
      wake?.();
    };
    const onClose = () => {
      if (!ended) broken ??= new Error('closed');
      wake?.();
    };
    const onError = (error: unknown) => {
      broken ??= error;
      wake?.();
    };
    response.setEncoding('utf8');
    response.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onError);
    const stopReading = () => {
      clearTimeout(idleTimer);
      cleanup();
      response.off('data', onData);
      // Once [DONE] is read the rest (the chunked terminator) drains on its own, and the connection goes
      // back to the keep-alive pool.
      if (!ended) response.resume();
    };
    try {
      while (true) {
        if (streamError) throw streamError;
        while (pending.length > 0) {
          const chunk = pending.shift();
          if (chunk) yield chunk;
        }
        if (response.isPaused() && !finished) response.resume();
        if (finished || ended || broken !== undefined) break;
        await new Promise<void>((resolveWake) => {
          wake = resolveWake;
        });
        wake = undefined;
      }
      if (!finished && broken !== undefined) {
        throw controller.signal.reason instanceof DomainError
          ? controller.signal.reason
          : new DomainError('upstream_error', 'The connection to the AI server broke mid-answer.', {
              cause: errorText(broken),
            });
      }
      if (!finished && finishReason === undefined) {
        throw new DomainError('upstream_error', 'The AI server closed the connection mid-answer.');
      }
      // Done before the last chunk is handed on: a consumer never resumes a generator after its 'done'.
      stopReading();
      yield { type: 'done', finishReason: finishReason ?? 'stop', ...(usage ? { usage } : {}) };
    } finally {
      stopReading();
      // Stops the upstream generation if the consumer gave up early (caps, stop, errors).
      if (!finished && !ended) controller.abort();
    }
  }
}

/** A container's first read of the key. */
async function firstKey(apiKey: FleetApiKey): Promise<string | undefined> {
  try {
    return await apiKey.get();
  } catch {
    // The secret store is down at cold start: our fault, not the server's; no failover helps.
    throw new DomainError('internal_error', INTERNAL_ERROR_MESSAGE, { cause: 'api_key_unavailable' });
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as Error & { code?: string; cause?: { code?: string } }).code;
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return code ?? cause?.code ?? error.name;
  }
  return 'unknown';
}
