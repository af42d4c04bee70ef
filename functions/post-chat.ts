import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { logger, withLogging } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { beginTurn, type ChatResult, respondWithTurn } from './http/chat-responses';
import { errorResult, type HttpEvent, requireMethod } from './http/event';
import { withCorrelationId } from './http/middleware';
import { parseChatHttpRequest } from './http/requests';
import { settings } from './settings';
import { createChatService } from './wiring/chat';
import { awsInfrastructure } from './wiring/infrastructure';

const chat = createChatService(settings, awsInfrastructure());
const verify = createAuthenticator(settings);
const limits = { maxPromptChars: settings.maxPromptChars };
const streaming = { sseFlushMs: settings.sseFlushMs };

/**
 * POST /chat: the verified caller, the parsed request, one turn begun by ChatService (admission first),
 * answered as JSON once stored or streamed as SSE (http/chat-responses.ts).
 */
export async function postChat(event: HttpEvent): Promise<ChatResult> {
  const receivedAt = Date.now();
  try {
    requireMethod(event, 'POST');
    const caller = await verify(event);
    const request = parseChatHttpRequest(event, limits);
    logger.info('chat request', { prompt_chars: request.prompt.length, stream: request.stream });
    const turn = await beginTurn(chat, caller, request);
    return await respondWithTurn(turn, request, caller, receivedAt, streaming);
  } catch (error) {
    return errorResult(error, logger);
  }
}

export const handler = middy<HttpEvent, ChatResult>({ executionMode: executionModeStreamifyResponse })
  .use(withLogging())
  .use(withCorrelationId())
  .handler(postChat);
