import { CHAT_HEADERS, type ChatRequestBody } from '../../contract/http-api';
import { SSE_DONE_DATA } from '../../contract/sse';
import { type FinalTurnStatus, isFinalTurnStatus, type Tier } from '../../contract/turn';
import { type Api, type ApiError, apiError } from './api';
import { AuthError, isRecord } from './auth';
import { retryDelaySeconds } from './backoff';
import { readSse } from './sse';

export const NETWORK_MESSAGE =
  "Network error: couldn't reach the server. Check your connection and try again.";

export type FailureKind = 'network' | 'rate_limited' | 'invalid' | 'server' | 'stream' | 'auth';

/** What happens to one prompt, in order; the UI renders each. */
export type SendEvent =
  | { readonly type: 'busy'; readonly seconds: number; readonly attempt: number }
  | { readonly type: 'tick'; readonly seconds: number }
  | { readonly type: 'retrying'; readonly attempt: number }
  | { readonly type: 'meta'; readonly messageId: string; readonly conversationId: string }
  | { readonly type: 'content'; readonly text: string }
  | { readonly type: 'end'; readonly status: FinalTurnStatus }
  | {
      readonly type: 'failed';
      readonly kind: FailureKind;
      readonly message: string;
      readonly started: boolean;
    }
  | { readonly type: 'cancelled' };

/** A turn sent to redo an earlier one: `regenerate_of` / `edit_of` on POST /chat. */
export interface Revision {
  readonly kind: 'regeneration' | 'edit';
  /** The earlier turn's message id. */
  readonly of: string;
}

export interface SendOptions {
  readonly prompt: string;
  readonly conversationId?: string;
  readonly tier: Tier;
  readonly revision?: Revision;
}

/** Stop asks the server first; if its end event does not come within this, the client lets go. */
const STOP_GRACE_MS = 5_000;

/**
 * One prompt's life: POST /chat (streaming), automatic retries after 503 with the server's Retry-After
 * and an incremented `x-retry-attempt`, the same Idempotency-Key on every retry, then the SSE stream.
 * Emits a `SendEvent` for each step and settles when the turn reached a final state.
 */
export class PromptSender {
  private readonly idempotencyKey = newId();
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private messageId: string | undefined;
  private stopRequested = false;
  private finished = false;

  constructor(
    private readonly api: Api,
    private readonly options: SendOptions,
    private readonly emit: (event: SendEvent) => void,
  ) {}

  /** Skips the remaining countdown. */
  retryNow(): void {
    this.wake?.();
  }

  /** Gives up on a prompt that has not started streaming (busy, or waiting for the first byte). */
  cancel(): void {
    if (this.finished) return;
    this.finished = true;
    this.abort.abort();
    this.wake?.();
    this.emit({ type: 'cancelled' });
  }

  /** Stops a streaming answer: the server ends the stream with status `stopped`. */
  async stop(): Promise<void> {
    if (this.finished || this.stopRequested) return;
    this.stopRequested = true;
    const accepted = this.messageId !== undefined && (await this.api.stop(this.messageId));
    if (!accepted) {
      this.letGo();
      return;
    }
    setTimeout(() => this.letGo(), STOP_GRACE_MS);
  }

  private letGo(): void {
    if (this.finished) return;
    this.finished = true;
    this.abort.abort();
    this.emit({ type: 'end', status: 'stopped' });
  }

  async run(): Promise<void> {
    let attempt = 0;
    const body = JSON.stringify({
      prompt: this.options.prompt,
      stream: true,
      ...(this.options.conversationId ? { conversation_id: this.options.conversationId } : {}),
      ...(this.options.revision?.kind === 'regeneration' ? { regenerate_of: this.options.revision.of } : {}),
      ...(this.options.revision?.kind === 'edit' ? { edit_of: this.options.revision.of } : {}),
    } satisfies ChatRequestBody);
    for (;;) {
      let response: Response;
      try {
        response = await this.api.fetch('/chat', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            [CHAT_HEADERS.idempotencyKey]: this.idempotencyKey,
            ...(attempt > 0 ? { [CHAT_HEADERS.retryAttempt]: String(attempt) } : {}),
          },
          body,
          signal: this.abort.signal,
        });
      } catch (error) {
        if (this.finished) return;
        return error instanceof AuthError
          ? this.fail('auth', 'Your session has expired. Please log in again.', false)
          : this.fail('network', NETWORK_MESSAGE, false);
      }
      if (this.finished) return;
      if (response.status === 503 || response.status === 429) {
        const error = await apiError(response);
        const seconds = retryDelaySeconds(
          error.retryAfter,
          error.details.retry_after_seconds,
          this.options.tier,
          attempt,
        );
        // A 429 for streams or pace waits seconds: waited out like a 503. A spent window is shown instead.
        if (response.status === 429 && seconds > MAX_RATE_LIMIT_WAIT_SECONDS) {
          return this.fail('rate_limited', describe(error), false);
        }
        attempt++;
        this.emit({ type: 'busy', seconds, attempt });
        await this.countdown(seconds);
        if (this.finished) return;
        this.emit({ type: 'retrying', attempt });
        continue;
      }
      if (!response.ok || response.body === null) {
        const error = await apiError(response);
        return this.fail(kindOf(error.status), describe(error), false);
      }
      return this.stream(response.body);
    }
  }

  private async countdown(seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearInterval(interval);
        this.wake = undefined;
        resolve();
      };
      const interval = setInterval(() => {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        if (left <= 0) done();
        else this.emit({ type: 'tick', seconds: left });
      }, 250);
      this.wake = done;
    });
  }

  private async stream(body: ReadableStream<Uint8Array>): Promise<void> {
    let status: FinalTurnStatus | undefined;
    try {
      for await (const event of readSse(body)) {
        if (this.finished) return;
        if (event.event === 'meta') {
          const meta = parseJson(event.data);
          if (typeof meta.message_id === 'string' && typeof meta.conversation_id === 'string') {
            this.messageId = meta.message_id;
            this.emit({ type: 'meta', messageId: meta.message_id, conversationId: meta.conversation_id });
          }
        } else if (event.event === 'end') {
          const end = parseJson(event.data);
          status = isFinalTurnStatus(end.status) ? end.status : 'completed';
        } else if (event.event === 'error') {
          const error = parseJson(event.data).error;
          const message = isRecord(error) && typeof error.message === 'string' ? error.message : undefined;
          return this.fail('stream', message ?? 'The answer failed part-way. Please try again.', true);
        } else if (event.data === SSE_DONE_DATA) {
          break;
        } else {
          const chunk = parseJson(event.data);
          if (typeof chunk.content === 'string' && chunk.content !== '') {
            this.emit({ type: 'content', text: chunk.content });
          }
        }
      }
    } catch {
      if (this.finished) return;
      return this.fail('stream', 'The connection dropped before the answer finished.', true, 'interrupted');
    }
    if (this.finished) return;
    if (status === undefined) {
      return this.fail('stream', 'The connection dropped before the answer finished.', true, 'interrupted');
    }
    this.finished = true;
    this.emit({ type: 'end', status });
  }

  private fail(
    kind: FailureKind,
    message: string,
    started: boolean,
    status: 'failed' | 'interrupted' = 'failed',
  ): void {
    if (this.finished) return;
    this.finished = true;
    this.emit({ type: 'failed', kind, message, started });
    if (started) this.emit({ type: 'end', status });
  }
}

/** Longest 429 wait the client sits out by itself (a stream ending, the next minute); longer ones are shown. */
const MAX_RATE_LIMIT_WAIT_SECONDS = 60;

function kindOf(status: number): FailureKind {
  if (status === 429) return 'rate_limited';
  if (status === 401) return 'auth';
  if (status >= 400 && status < 500) return 'invalid';
  return 'server';
}

function describe(error: ApiError): string {
  if (error.status === 429) {
    const seconds = retryDelaySeconds(error.retryAfter, error.details.retry_after_seconds, 'free', 0, 0);
    const wait = error.retryAfter !== null || typeof error.details.retry_after_seconds === 'number';
    return `You've reached your message limit for now.${wait ? ` You can send again in ${humanSeconds(seconds)}.` : ' Please wait a while before sending more.'}`;
  }
  if (error.status === 401) return 'Your session has expired. Please log in again.';
  if (error.status === 413) return 'Your message is too long.';
  if (error.status >= 400 && error.status < 500) return error.message;
  return 'Something went wrong on our side. Please try again.';
}

export function humanSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.ceil(minutes / 60);
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}

function parseJson(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

export function newId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
