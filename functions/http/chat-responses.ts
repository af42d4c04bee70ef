/**
 * A begun turn's responses: one JSON body once stored, or Server-Sent Events while the model produces
 * it, in a wire format (POST /chat's own here, `/v1/chat/completions`' in openai/responses.ts). Also the
 * turn's metrics and its one "turn ended" log line (ids, sizes, timings; never prompt or answer text).
 */
import { Readable } from 'node:stream';
import { CHAT_STREAM_HEADERS } from '../../contract/http-api';
import type { ChatRequest } from '../../domain/chat-request';
import { isDomainError } from '../../domain/errors';
import type { Caller } from '../../domain/turn';
import type { MeteredChat, MeteredTurn } from '../../use-cases/metered-chat';
import type { ActiveTurn, TurnEvent } from '../../use-cases/start-turn';
import { addLogScopeKeys, bindToLogScope } from '../commons/log-scope';
import { logger } from '../commons/logger';
import { recordAdmitted, recordParked, recordShed } from '../commons/metrics';
import { mapError } from './errors';
import { type HttpResult, json } from './event';
import { SSE_DONE, sseData, sseEvent } from './sse';
import { coalesceContent } from './sse-coalesce';

/** A streamed result: middy pipes `body` into the response stream (stream.pipeline: backpressure). */
export interface StreamResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

export type ChatResult = HttpResult | StreamResult;

export type TurnEnd = Extract<TurnEvent, { type: 'end' }>;

/** How a turn's answer is put on the wire: the frames of a stream, and the body of a buffered answer. */
export interface TurnWire {
  /** Headers of a streamed answer besides its content type and ids. */
  readonly streamHeaders?: Readonly<Record<string, string>>;
  /** The frames before the first content. */
  open(turn: ActiveTurn): string;
  content(turn: ActiveTurn, text: string): string;
  /** The frames of a turn that ended (completed or stopped), its end of stream included. */
  end(turn: ActiveTurn, event: TurnEnd): string;
  /** The frame of a failure after the headers. */
  error(error: unknown): string;
  /** The body of a buffered answer, once the turn is stored. */
  body(turn: ActiveTurn, answer: string, event: TurnEnd): unknown;
}

/** POST /chat's own wire format (contract/sse.ts). */
export const chatWire: TurnWire = {
  open: (turn) => sseEvent('meta', { message_id: turn.messageId, conversation_id: turn.conversationId }),
  content: (_turn, text) => sseData({ content: text }),
  end: (turn, event) => sseEvent('end', endPayload(turn, event)) + SSE_DONE,
  error: (error) => sseEvent('error', mapError(error, logger).body),
  body: (turn, answer) => ({
    message_id: turn.messageId,
    response: answer,
    conversation_id: turn.conversationId,
  }),
};

/** Begins the turn under the caller's quota; a refusal (overloaded, rate_limited) is counted or logged here. */
export async function beginTurn(
  chat: Pick<MeteredChat, 'begin'>,
  caller: Caller,
  request: ChatRequest,
): Promise<MeteredTurn> {
  const metered = await chat.begin(caller, request);
  const { error } = metered;
  if (isDomainError(error) && (error.code === 'overloaded' || error.code === 'rate_limited')) {
    if (error.code === 'overloaded') recordShed(caller.tier);
    logger.info('prompt refused', { reason: String(error.details.reason ?? error.code) });
  }
  return metered;
}

/** The response for an admitted turn, streamed or not as the request asked. */
export async function respondWithTurn(
  turn: ActiveTurn,
  request: Pick<ChatRequest, 'stream' | 'prompt'>,
  caller: Caller,
  receivedAt: number,
  /** SSE_FLUSH_MS: tokens arriving within it of the first one waiting share a frame (0: one per chunk). */
  sseFlushMs = 0,
  wire: TurnWire = chatWire,
): Promise<ChatResult> {
  // A replay names the turn it replays, not the one begin() minted.
  addLogScopeKeys({ message_id: turn.messageId });
  if (turn.serverId) {
    recordAdmitted(caller.tier, turn.serverId, Date.now() - receivedAt, turn.opening?.viewAgeMs);
  }
  // The turn's one log line is written when it ends; the request's log scope names the caller and the
  // turn (middleware.ts), this line what the turn was.
  const line: TurnLine = {
    prompt_chars: request.prompt.length,
    stream: request.stream,
    ...(turn.opening && {
      ttft_ms: turn.opening.ttftMs,
      context_turns: turn.opening.contextTurns,
      context_tokens: turn.opening.contextTokens,
      context_estimated_turns: turn.opening.contextEstimatedTurns,
    }),
  };
  return request.stream
    ? streamTurn(turn, receivedAt, line, sseFlushMs, wire)
    : await collectTurn(turn, receivedAt, line, wire);
}

/** What the turn's log line says besides its outcome. */
type TurnLine = Record<string, string | number | boolean>;

/** Non-streaming: answer only once the turn is stored (or parked durably on the write queue). */
async function collectTurn(
  turn: ActiveTurn,
  receivedAt: number,
  line: TurnLine,
  wire: TurnWire,
): Promise<HttpResult> {
  let response = '';
  let end: TurnEnd | undefined;
  for await (const event of turn.events()) {
    if (event.type === 'content') response += event.text;
    else if (event.type === 'error') throw event.error;
    else {
      end = event;
      logTurnEnd(turn, event.status, response.length, receivedAt, event.stored, line);
    }
  }
  if (!end) throw new Error('the turn ended without an end event');
  return json(200, wire.body(turn, response, end));
}

/**
 * Streaming: the frames come from an async generator, read by the response stream as it drains. The
 * first content chunk is already in hand, so headers, meta and the first token leave together.
 */
function streamTurn(
  turn: ActiveTurn,
  receivedAt: number,
  line: TurnLine,
  flushMs: number,
  wire: TurnWire,
): StreamResult {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      ...wire.streamHeaders,
      [CHAT_STREAM_HEADERS.messageId]: turn.messageId,
      [CHAT_STREAM_HEADERS.conversationId]: turn.conversationId,
    },
    // Bound to the request's log scope: the response stream pulls frames from callbacks outside it.
    body: Readable.from(bindToLogScope(sseFrames(turn, receivedAt, line, flushMs, wire)), {
      objectMode: false,
    }),
  };
}

/**
 * The SSE frames of one turn in its wire format: the opening, a content frame per flush (sse-coalesce.ts),
 * then the end (POST /chat: `event: end` and `data: [DONE]`), or an error frame. The turn's events are pulled by hand, not with for-await, so a
 * response stream torn down early does not return() the turn: a client that goes away is not signalled
 * on Lambda, and generation and the final write always run to the end, so a refresh finds the answer.
 */
export async function* sseFrames(
  turn: ActiveTurn,
  receivedAt: number,
  line: TurnLine = {},
  flushMs = 0,
  wire: TurnWire = chatWire,
): AsyncGenerator<string> {
  const events = coalesceContent(turn.events(), flushMs);
  let chars = 0;
  let finished = false;
  const onEvent = (event: TurnEvent): string => {
    if (event.type === 'content') {
      chars += event.text.length;
      return wire.content(turn, event.text);
    }
    if (event.type === 'end') {
      logTurnEnd(turn, event.status, chars, receivedAt, event.stored, line);
      return wire.end(turn, event);
    }
    logTurnEnd(turn, 'failed', chars, receivedAt, event.stored, line);
    return wire.error(event.error);
  };
  try {
    yield wire.open(turn);
    while (true) {
      let next: IteratorResult<TurnEvent>;
      try {
        next = await events.next();
      } catch (error) {
        finished = true;
        yield wire.error(error);
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

function endPayload(turn: ActiveTurn, event: TurnEnd) {
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
  line: TurnLine,
) {
  if (!stored) recordParked();
  logger.info('turn ended', {
    ...line,
    status,
    stored,
    server: turn.serverId,
    answer_chars: answerChars,
    duration_ms: Date.now() - receivedAt,
  });
}
