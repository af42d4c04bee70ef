import { PassThrough } from 'node:stream';
import middy from '@middy/core';
import {
  createDocumentClient,
  createDynamoDbClient,
  documentClient,
  tableNameFromEnv,
} from '../adapters/dynamodb/clients';
import { DynamoDbFleetRepository } from '../adapters/dynamodb/fleet-repository';
import { DynamoDbIdempotencyClaims } from '../adapters/dynamodb/idempotency-claims';
import { DynamoDbStopFlags } from '../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import { gptTokenizer } from '../adapters/inference/gpt-tokenizer';
import { OpenAiModelClient } from '../adapters/inference/openai-model-client';
import { createSqsClient } from '../adapters/sqs/clients';
import { SqsTurnWriteQueue } from '../adapters/sqs/sqs-turn-write-queue';
import { CHAT_HEADERS, CHAT_STREAM_HEADERS, type ChatResponseBody } from '../contract/http-api';
import type { SseContentPayload, SseEndPayload, SseMetaPayload } from '../contract/sse';
import { parseChatRequest, parseIdempotencyKey, parseRetryAttempt } from '../domain/chat-request';
import { isDomainError } from '../domain/errors';
import { systemClock } from '../domain/ports';
import { chatTable, fleetTable, turnWritesQueue } from '../lib/resources';
import { FleetGate } from '../use-cases/fleet-gate';
import { type ActiveTurn, ChatService } from '../use-cases/start-turn';
import { authenticate } from './commons/auth';
import {
  getNumberFromEnv,
  getOptionalStringFromEnv,
  getStringFromEnv,
  maxTurnMsFromEnv,
} from './commons/env';
import {
  admissionPolicyFromEnv,
  backoffPolicyFromEnv,
  fleetPolicyFromEnv,
  fleetShardsFromEnv,
  heartbeatIntervalMs,
} from './commons/fleet-policy';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  header,
  json,
  parseJsonBody,
  query,
  requireMethod,
} from './commons/http';
import { mapError } from './commons/http-errors';
import { logger } from './commons/logger';
import { recordAdmitted, recordParked, recordShed } from './commons/metrics';
import { withCorrelationId, withLogging } from './commons/middleware';
import { SSE_DONE, sseData, sseEvent } from './commons/sse';

const limits = { maxPromptChars: getNumberFromEnv('MAX_PROMPT_CHARS', 32_000) };

const chatTableName = tableNameFromEnv(chatTable);

/**
 * Fleet views are read with a short leash: one attempt and a retry within ~1 s. A slow read costs the
 * prompt its first token, and a failed one is no loss: the gate keeps its last view (static stability).
 */
const fleetViews = createDocumentClient(
  createDynamoDbClient({ connectTimeoutMs: 300, requestTimeoutMs: 400, maxAttempts: 2 }),
);

const chat = new ChatService({
  repository: new DynamoDbTurnRepository(documentClient, chatTableName),
  stopFlags: new DynamoDbStopFlags(documentClient, chatTableName, systemClock),
  idempotency: new DynamoDbIdempotencyClaims(documentClient, chatTableName, systemClock),
  model: new OpenAiModelClient({
    connectTimeoutMs: getNumberFromEnv('INFERENCE_CONNECT_TIMEOUT_MS', 3_000),
    idleTimeoutMs: getNumberFromEnv('INFERENCE_IDLE_TIMEOUT_MS', 10_000),
  }),
  admission: new FleetGate({
    admissionPolicy: admissionPolicyFromEnv(),
    fleet: new DynamoDbFleetRepository(fleetViews, tableNameFromEnv(fleetTable)),
    shards: fleetShardsFromEnv(),
    clock: systemClock,
    random: Math.random,
    policy: fleetPolicyFromEnv(),
    backoff: backoffPolicyFromEnv(),
    cacheMs: heartbeatIntervalMs(),
    premiumWaitMs: getNumberFromEnv('PREMIUM_ADMISSION_WAIT_MS', 1_000),
  }),
  tokenizer: gptTokenizer,
  writeQueue: new SqsTurnWriteQueue(createSqsClient(), getStringFromEnv(turnWritesQueue.envVar)),
  clock: systemClock,
  log: logger,
  config: {
    model: getOptionalStringFromEnv('MODEL_ID', 'local-llm'),
    contextTokenBudget: getNumberFromEnv('CONTEXT_TOKEN_BUDGET', 3_000),
    contextTurnsToRead: getNumberFromEnv('CONTEXT_TURNS_TO_READ', 20),
    maxAnswerTokens: getNumberFromEnv('MAX_ANSWER_TOKENS', 1_024),
    firstTokenTimeoutMs: getNumberFromEnv('FIRST_TOKEN_TIMEOUT_MS', 15_000),
    maxTurnMs: maxTurnMsFromEnv(),
    stopPollMs: getNumberFromEnv('STOP_POLL_MS', 400),
  },
});

type ChatResult = HttpResult | { statusCode: number; headers: Record<string, string>; body: PassThrough };

export async function postChat(event: HttpEvent): Promise<ChatResult> {
  const receivedAt = Date.now();
  try {
    requireMethod(event, 'POST');
    const caller = await authenticate(event);
    const request = {
      ...parseChatRequest(parseJsonBody(event), query(event).stream === 'true', limits),
      retryAttempt: parseRetryAttempt(header(event, CHAT_HEADERS.retryAttempt)),
      idempotencyKey: parseIdempotencyKey(header(event, CHAT_HEADERS.idempotencyKey)),
    };
    logger.info('chat request', { prompt_chars: request.prompt.length, stream: request.stream });
    let turn: ActiveTurn;
    try {
      turn = await chat.begin(caller, request);
    } catch (error) {
      if (isDomainError(error) && error.code === 'overloaded') {
        recordShed(caller.tier);
        logger.info('prompt refused', { reason: String(error.details.reason ?? 'overloaded') });
      }
      throw error;
    }
    logger.appendKeys({ message_id: turn.messageId });
    if (turn.serverId) recordAdmitted(caller.tier, turn.serverId, Date.now() - receivedAt);
    return request.stream ? streamTurn(turn, receivedAt) : await collectTurn(turn, receivedAt);
  } catch (error) {
    return errorResult(error, logger);
  }
}

/** Non-streaming: answer only once the turn is stored (or parked durably on the write queue). */
async function collectTurn(turn: ActiveTurn, receivedAt: number): Promise<HttpResult> {
  let response = '';
  for await (const event of turn.events()) {
    if (event.type === 'content') response += event.text;
    else if (event.type === 'error') throw event.error;
    else logTurnEnd(turn, event.status, response.length, receivedAt, event.stored);
  }
  return json(200, {
    message_id: turn.messageId,
    response,
    conversation_id: turn.conversationId,
  } satisfies ChatResponseBody);
}

/**
 * Streaming: the body is filled asynchronously while middy pipes it to the response stream.
 * The first content chunk is already in hand, so headers, meta and the first token leave together.
 * A client that goes away is not signalled (Lambda does not), so generation and the final write
 * always run to the end and a refresh finds the answer.
 */
function streamTurn(turn: ActiveTurn, receivedAt: number): ChatResult {
  const body = new PassThrough();
  body.write(
    sseEvent('meta', {
      message_id: turn.messageId,
      conversation_id: turn.conversationId,
    } satisfies SseMetaPayload),
  );
  void (async () => {
    let chars = 0;
    try {
      for await (const event of turn.events()) {
        if (event.type === 'content') {
          chars += event.text.length;
          body.write(sseData({ content: event.text } satisfies SseContentPayload));
        } else if (event.type === 'end') {
          logTurnEnd(turn, event.status, chars, receivedAt, event.stored);
          body.write(
            sseEvent('end', {
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
            } satisfies SseEndPayload),
          );
          body.write(SSE_DONE);
        } else {
          logTurnEnd(turn, 'failed', chars, receivedAt, event.stored);
          body.write(sseEvent('error', mapError(event.error, logger).body));
        }
      }
    } catch (error) {
      body.write(sseEvent('error', mapError(error, logger).body));
    } finally {
      body.end();
    }
  })();
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      [CHAT_STREAM_HEADERS.messageId]: turn.messageId,
      [CHAT_STREAM_HEADERS.conversationId]: turn.conversationId,
    },
    body,
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

export const handler = middy<HttpEvent, ChatResult>({ streamifyResponse: true })
  .use(withLogging())
  .use(withCorrelationId())
  .handler(postChat);
