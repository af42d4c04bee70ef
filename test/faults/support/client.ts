/**
 * A client of POST /chat that records everything it was told, also when the connection breaks halfway
 * (a killed stack) or when it hangs up on purpose (disconnect, stop): what the fault suite reconciles
 * against the table.
 */
import { readSse, type SseEvent } from '../../support/http';

export interface EndEvent {
  readonly status: string;
  readonly stored: boolean;
  readonly finishReason?: string;
  readonly completionTokens?: number;
}

export interface StopRecord {
  /** HTTP status of POST /chat/stop, or 'network'. */
  status: number | 'network';
  /** Content events received when the stop was sent, and when its 200 came back. */
  contentEventsAtSend: number;
  contentEventsAtAnswer?: number;
}

/** What one HTTP attempt of POST /chat showed the client. */
export interface Attempt {
  readonly label: string;
  readonly key?: string;
  readonly stream: boolean;
  /** HTTP status, or 'network' when no response arrived. */
  status: number | 'network';
  /** The message id the client was given (meta event, JSON body, or an error's message_id). */
  messageId?: string;
  /** Content text received (stream chunks or the JSON response). */
  content: string;
  contentEvents: number;
  end?: EndEvent;
  /** `event: error` mid-stream, or the error body of a non-200 answer. */
  errorCode?: string;
  /** The client hung up on purpose. */
  disconnected: boolean;
  /** The connection broke (or timed out) without the client wanting it. */
  broken: boolean;
  sawDone: boolean;
  stop?: StopRecord;
  /** The stop request in flight, awaited before the attempt resolves. */
  stopPending?: Promise<void>;
}

export interface AttemptOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly prompt: string;
  readonly label?: string;
  readonly key?: string;
  readonly conversationId?: string;
  readonly stream?: boolean;
  /** Hang up after this many content events. */
  readonly disconnectAfter?: number;
  /** POST /chat/stop after this many content events. */
  readonly stopAfter?: number;
  /** Whole-attempt time limit. Default 60 s. */
  readonly timeoutMs?: number;
  /** Called with each event as it arrives (after it is recorded). */
  readonly onEvent?: (event: SseEvent, attempt: Attempt) => void;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(body: unknown): { code?: string; messageId?: string } {
  if (!isRecord(body) || !isRecord(body.error)) return {};
  const { code, message_id } = body.error;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof message_id === 'string' ? { messageId: message_id } : {}),
  };
}

export async function stopTurn(baseUrl: string, token: string, messageId: string): Promise<number> {
  const response = await fetch(`${baseUrl}/chat/stop`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message_id: messageId }),
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return response.status;
}

/** One POST /chat; never throws: every outcome is recorded on the returned attempt. */
export async function chatAttempt(options: AttemptOptions): Promise<Attempt> {
  const stream = options.stream ?? true;
  const attempt: Attempt = {
    label: options.label ?? 'first',
    ...(options.key === undefined ? {} : { key: options.key }),
    stream,
    status: 'network',
    content: '',
    contentEvents: 0,
    disconnected: false,
    broken: false,
    sawDone: false,
  };
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.token}`,
    'content-type': 'application/json',
  };
  if (options.key !== undefined) headers['idempotency-key'] = options.key;
  let response: Response;
  try {
    response = await fetch(`${options.baseUrl}/chat`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        prompt: options.prompt,
        stream,
        ...(options.conversationId === undefined ? {} : { conversation_id: options.conversationId }),
      }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
  } catch {
    attempt.broken = true;
    return attempt;
  }
  attempt.status = response.status;
  const headerId = response.headers.get('x-message-id');
  if (headerId) attempt.messageId = headerId;
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.includes('text/event-stream')) {
    let text: string;
    try {
      text = await response.text();
    } catch {
      attempt.broken = true;
      return attempt;
    }
    const body = parseJson(text);
    if (response.status === 200 && isRecord(body)) {
      if (typeof body.message_id === 'string') attempt.messageId = body.message_id;
      if (typeof body.response === 'string') {
        attempt.content = body.response;
        // A 200 JSON answer is given only once the turn is stored (or durably parked) as completed.
        attempt.end = { status: 'completed', stored: true };
      }
    } else {
      const error = errorOf(body);
      if (error.code) attempt.errorCode = error.code;
      if (error.messageId) attempt.messageId = error.messageId;
    }
    return attempt;
  }

  const onEvent = (event: SseEvent): boolean => {
    if (event.event === 'meta') {
      const meta = parseJson(event.data);
      if (isRecord(meta) && typeof meta.message_id === 'string') attempt.messageId = meta.message_id;
    } else if (event.event === 'end') {
      const end = parseJson(event.data);
      if (isRecord(end)) {
        const usage = isRecord(end.usage) ? end.usage : undefined;
        attempt.end = {
          status: String(end.status),
          stored: end.stored === true,
          ...(typeof end.finish_reason === 'string' ? { finishReason: end.finish_reason } : {}),
          ...(typeof usage?.completion_tokens === 'number'
            ? { completionTokens: usage.completion_tokens }
            : {}),
        };
      }
    } else if (event.event === 'error') {
      const error = errorOf(parseJson(event.data));
      attempt.errorCode = error.code ?? 'unknown';
    } else if (event.event === undefined && event.data === '[DONE]') {
      attempt.sawDone = true;
    } else if (event.event === undefined) {
      const chunk = parseJson(event.data);
      if (isRecord(chunk) && typeof chunk.content === 'string') {
        attempt.content += chunk.content;
        attempt.contentEvents++;
      }
    }
    options.onEvent?.(event, attempt);
    if (
      options.stopAfter !== undefined &&
      attempt.stop === undefined &&
      attempt.contentEvents >= options.stopAfter &&
      attempt.messageId !== undefined
    ) {
      const stop: StopRecord = { status: 'network', contentEventsAtSend: attempt.contentEvents };
      attempt.stop = stop;
      attempt.stopPending = stopTurn(options.baseUrl, options.token, attempt.messageId).then(
        (status) => {
          stop.status = status;
          stop.contentEventsAtAnswer = attempt.contentEvents;
        },
        () => {
          stop.status = 'network';
        },
      );
    }
    if (options.disconnectAfter !== undefined && attempt.contentEvents >= options.disconnectAfter) {
      attempt.disconnected = true;
      return true;
    }
    return false;
  };
  try {
    const read = await readSse(response, { onEvent: (event) => onEvent(event) });
    if (read.aborted && !attempt.disconnected) attempt.broken = true;
  } catch {
    attempt.broken = true;
  }
  if (!attempt.disconnected && !attempt.sawDone && attempt.errorCode === undefined) attempt.broken = true;
  await attempt.stopPending;
  return attempt;
}

/** The attempt without its pending promise, for JSON output. */
export function attemptSummary(attempt: Attempt): Omit<Attempt, 'stopPending'> {
  const { stopPending: _pending, ...rest } = attempt;
  return rest;
}
