/**
 * One prompt, as a first attempt (no retry, no x-retry-attempt), read as lean as possible: the time the
 * first content event arrives, then only a short tail of the stream to find the `end` event and [DONE].
 * No per-token parsing: the load generator shares two cores with the stack it measures.
 */

export type Outcome =
  /** 200, `event: end` with status completed, then [DONE]. */
  | 'completed'
  /** 503 overloaded: refused by admission (or by every server). */
  | 'rejected'
  /** Admitted but no answer in time: 504 upstream_timeout, or the client's own cap. */
  | 'timeout'
  /** Anything else: another status, a stream cut or ended with an error event, a network error. */
  | 'failed';

export interface PromptResult {
  readonly outcome: Outcome;
  /** HTTP status (0 when no response arrived). */
  readonly status: number;
  /** The error code of a JSON error answer or of an SSE error event, when there was one. */
  readonly code?: string;
  /** Request sent → first content event (ms); undefined when none arrived. */
  readonly ttftMs?: number;
  /** Request sent → response fully read or failed (ms). */
  readonly totalMs: number;
  /** Retry-After of a refusal (s). */
  readonly retryAfter?: number;
  /** `x-message-id` of a streamed answer (joins the prompt with the chat function's logs). */
  readonly messageId?: string;
}

const FIRST_CONTENT = 'data: {"content"';
const END_EVENT = 'event: end\ndata: ';
const TAIL_CHARS = 1_200;

function errorCodeOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

function endStatusOf(tail: string): string | undefined {
  const at = tail.lastIndexOf(END_EVENT);
  if (at < 0) return undefined;
  const line = tail.slice(at + END_EVENT.length, tail.indexOf('\n', at + END_EVENT.length));
  try {
    const parsed = JSON.parse(line) as { status?: unknown };
    return typeof parsed.status === 'string' ? parsed.status : undefined;
  } catch {
    return undefined;
  }
}

export async function sendPrompt(
  url: string,
  idToken: string,
  prompt: string,
  timeoutMs: number,
): Promise<PromptResult> {
  const sentAt = performance.now();
  const since = () => performance.now() - sentAt;
  let ttftMs: number | undefined;
  let status = 0;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, stream: true }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = response.status;
    const isStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    if (!isStream || !response.body) {
      const text = await response.text();
      const code = errorCodeOf(text);
      const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
      const outcome: Outcome =
        status === 503 && code === 'overloaded' ? 'rejected' : status === 504 ? 'timeout' : 'failed';
      return {
        outcome,
        status,
        totalMs: since(),
        ...(code === undefined ? {} : { code }),
        ...(Number.isFinite(retryAfter) ? { retryAfter } : {}),
      };
    }
    const messageId = response.headers.get('x-message-id') ?? undefined;
    const id = messageId === undefined ? {} : { messageId };
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let head = '';
    let tail = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (ttftMs === undefined) {
        head += text;
        if (head.includes(FIRST_CONTENT)) {
          ttftMs = since();
          head = '';
        }
      }
      tail = tail.length + text.length > TAIL_CHARS ? (tail + text).slice(-TAIL_CHARS) : tail + text;
    }
    const totalMs = since();
    const endStatus = endStatusOf(tail);
    const ttft = ttftMs === undefined ? {} : { ttftMs };
    if (endStatus === 'completed' && tail.includes('data: [DONE]')) {
      return { outcome: 'completed', status, totalMs, ...ttft, ...id };
    }
    const errorAt = tail.lastIndexOf('event: error\ndata: ');
    const code =
      errorAt >= 0 ? errorCodeOf(tail.slice(errorAt + 19, tail.indexOf('\n', errorAt + 19))) : endStatus;
    return { outcome: 'failed', status, totalMs, ...ttft, ...id, ...(code === undefined ? {} : { code }) };
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const outcome: Outcome = name === 'TimeoutError' ? 'timeout' : 'failed';
    return {
      outcome,
      status,
      totalMs: since(),
      code: name === 'TimeoutError' ? 'client_timeout' : `client_${name}`,
      ...(ttftMs === undefined ? {} : { ttftMs }),
    };
  }
}
