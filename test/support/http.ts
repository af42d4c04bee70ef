/**
 * A tiny SSE client over fetch for tests and benchmarks: records every event and comment with the
 * time it arrived (performance.now()), so tests can check order and streaming (not timing).
 */
import { createParser } from 'eventsource-parser';

export interface SseEvent {
  readonly event?: string;
  readonly id?: string;
  readonly data: string;
  /** performance.now() when the event was parsed. */
  readonly receivedAt: number;
}

export interface SseComment {
  readonly comment: string;
  readonly receivedAt: number;
}

export interface SseRead {
  readonly status: number;
  readonly headers: Headers;
  readonly events: SseEvent[];
  /** `: keep-alive` style lines. */
  readonly comments: SseComment[];
  /** Non-SSE body (e.g. a JSON error answer), when the response was not an event stream. */
  readonly text?: string;
  /** performance.now() when the response headers arrived. */
  readonly headersAt: number;
  /** True when the stream was cut by `stop` returning true or by the signal. */
  readonly aborted: boolean;
}

export interface ReadSseOptions {
  /** Called for each event as it arrives; return true to stop reading (disconnects the client). */
  readonly onEvent?: (event: SseEvent, index: number) => boolean | undefined;
}

/** Reads an SSE response to its end (or until onEvent returns true). */
export async function readSse(response: Response, options: ReadSseOptions = {}): Promise<SseRead> {
  const headersAt = performance.now();
  const events: SseEvent[] = [];
  const comments: SseComment[] = [];
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.includes('text/event-stream') || !response.body) {
    return {
      status: response.status,
      headers: response.headers,
      events,
      comments,
      text: await response.text(),
      headersAt,
      aborted: false,
    };
  }
  let stop = false;
  const parser = createParser({
    onEvent: (message) => {
      if (stop) return;
      const event: SseEvent = {
        data: message.data,
        receivedAt: performance.now(),
        ...(message.event === undefined ? {} : { event: message.event }),
        ...(message.id === undefined ? {} : { id: message.id }),
      };
      events.push(event);
      if (options.onEvent?.(event, events.length - 1) === true) stop = true;
    },
    onComment: (comment) => {
      comments.push({ comment, receivedAt: performance.now() });
    },
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let aborted = false;
  try {
    while (!stop) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    aborted = true;
  }
  if (stop) {
    aborted = true;
    await reader.cancel().catch(() => {});
  }
  return { status: response.status, headers: response.headers, events, comments, headersAt, aborted };
}

/** fetch + readSse in one call. */
export async function fetchSse(
  url: string,
  init: RequestInit = {},
  options: ReadSseOptions = {},
): Promise<SseRead> {
  return readSse(await fetch(url, init), options);
}
