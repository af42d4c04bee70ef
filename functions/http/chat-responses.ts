/**
 * POST /chat's responses: a turn begun by ChatService, answered as one JSON body once stored, or as
 * Server-Sent Events while the model produces it. Also the turn's metrics and its one "turn ended" log
 * line (ids, sizes, timings; never prompt or answer text).
 */
import { Readable } from 'node:stream';
import { CHAT_STREAM_HEADERS } from '../../contract/http-api';
import type { ChatRequest } from '../../domain/chat-request';
import { isDomainError } from '../../domain/errors';
import type { Caller } from '../../domain/turn';
import type { ActiveTurn, ChatService, TurnEvent } from '../../use-cases/start-turn';
import { logger } from '../commons/logger';
import { recordAdmitted, recordParked, recordShed } from '../commons/metrics';
import { coalesceContent } from './coalesce-content';
import { mapError } from './errors';
import { type HttpResult, json } from './event';
import { SSE_DONE, sseData, sseEvent } from './sse';

/** A streamed result: middy pipes `body` into the response stream (stream.pipeline: backpressure). */
export interface StreamResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

export type ChatResult = HttpResult | StreamResult;

export interface StreamOptions {
  /** Content arriving within this window after a frame leaves in one frame at its end (SSE_FLUSH_MS). */
  readonly sseFlushMs: number;
}

/** Begins the turn; a refusal (overloaded) is counted per tier before it leaves as a 503. */
export async function beginTurn(
  chat: ChatService,
  caller: Caller,
  request: ChatRequest,
): Promise<ActiveTurn> {
  try {
    return await chat.begin(caller, request);
  } catch (error) {
    if (isDomainError(error) && error.code === 'overloaded') {
      recordShed(caller.tier);
      logger.info('prompt refused', { reason: String(error.details.reason ?? 'overloaded') });
    }
    throw error;
  }
}

/** The response for an admitted turn, streamed or not as the request asked. */
export async function respondWithTurn(
  turn: ActiveTurn,
  request: Pick<ChatRequest, 'stream'>,
  caller: Caller,
  receivedAt: number,
  options: StreamOptions,
): Promise<ChatResult> {
  logger.appendKeys({ message_id: turn.messageId });
  if (turn.serverId) recordAdmitted(caller.tier, turn.serverId, Date.now() - receivedAt);
  return request.stream ? streamTurn(turn, receivedAt, options) : await collectTurn(turn, receivedAt);
}

/** Non-streaming: answer only once the turn is stored (or parked durably on the write queue). */
async function collectTurn(turn: ActiveTurn, receivedAt: number): Promise<HttpResult> {
  let response = '';
  for await (const event of turn.events()) {
    if (event.type === 'content') response += event.text;
    else if (event.type === 'error') throw event.error;
    else logTurnEnd(turn, event.status, response.length, receivedAt, event.stored);
  }
  return json(200, { message_id: turn.messageId, response, conversation_id: turn.conversationId });
}

/**
 * Streaming: the frames come from an async generator, read by the response stream as it drains. The
 * first content chunk is already in hand, so headers, meta and the first token leave together.
 */
function streamTurn(turn: ActiveTurn, receivedAt: number, options: StreamOptions): StreamResult {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      [CHAT_STREAM_HEADERS.messageId]: turn.messageId,
      [CHAT_STREAM_HEADERS.conversationId]: turn.conversationId,
    },
    body: Readable.from(sseFrames(turn, receivedAt, options), { objectMode: false }),
  };
}

/**
 * The SSE frames of one turn: `event: meta`, a `data: {"content":…}` per flush of content (the first
 * chunk at once, then what arrived within each `sseFlushMs` window: coalesce-content.ts), then
 * `event: end` and `data: [DONE]`, or `event: error`. The turn's events are pulled by hand, not with
 * for-await, so a response stream torn down early does not return() the turn: a client that goes away
 * is not signalled on Lambda, and generation and the final write always run to the end, so a refresh
 * finds the answer.
 */
export async function* sseFrames(
  turn: ActiveTurn,
  receivedAt: number,
  options: StreamOptions,
): AsyncGenerator<string> {
  const events = coalesceContent(turn.events(), options.sseFlushMs);
  let chars = 0;
  let finished = false;
  const onEvent = (event: TurnEvent): string => {
    if (event.type === 'content') {
      chars += event.text.length;
      return sseData({ content: event.text });
    }
    if (event.type === 'end') {
      logTurnEnd(turn, event.status, chars, receivedAt, event.stored);
      return sseEvent('end', endPayload(turn, event)) + SSE_DONE;
    }
    logTurnEnd(turn, 'failed', chars, receivedAt, event.stored);
    return sseEvent('error', mapError(event.error, logger).body);
  };
  try {
    yield sseEvent('meta', { message_id: turn.messageId, conversation_id: turn.conversationId });
    while (true) {
      let next: IteratorResult<TurnEvent>;
      try {
        next = await events.next();
      } catch (error) {
        finished = true;
        yield sseEvent('error', mapError(error, logger).body);
        return;
      }
      if (next.done) {
        finished = true;
        return;
      }
      // A torn-down stream throws (or returns) here, at the yield: the turn is not finished then.
      yield onEvent(next.value);
    }
  } finally {
    if (!finished) void finishUnread(events, onEvent);
  }
}

/** The rest of a turn nobody reads any more: it still ends (and is stored, and logged) as it would have. */
async function finishUnread(events: AsyncGenerator<TurnEvent>, onEvent: (event: TurnEvent) => string) {
  try {
    for (let next = await events.next(); !next.done; next = await events.next()) onEvent(next.value);
  } catch (error) {
    mapError(error, logger);
  }
}

function endPayload(turn: ActiveTurn, event: Extract<TurnEvent, { type: 'end' }>) {
  return {
    message_id: turn.messageId,
    status: event.status,
    stored: event.stored,
    finish_reason: event.finishReason,
    ...(event.usage
      ? {
          usage: {
            prompt_tokens: event.usage.promptTokens,
            completion_tokens: event.usage.completionTokens,
          },
        }
      : {}),
  };
}

function logTurnEnd(
  turn: ActiveTurn,
  status: string,
  answerChars: number,
  receivedAt: number,
  stored: boolean,
) {
  if (!stored) recordParked();
  logger.info('turn ended', {
    message_id: turn.messageId,
    status,
    stored,
    server: turn.serverId,
    answer_chars: answerChars,
    duration_ms: Date.now() - receivedAt,
  });
}
