import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { logger, withLogging } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { beginTurn, type ChatResult, respondWithTurn } from './http/chat-responses';
import { errorResult, type HttpEvent, requireMethod } from './http/event';
import { withCorrelationId } from './http/middleware';
import { withOriginGuard } from './http/origin-guard';
import { parseChatHttpRequest } from './http/requests';
import { settings } from './settings';
import { createChatService } from './wiring/chat';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

const chat = createChatService(settings, awsInfrastructure());
const origin = createOriginGuard(settings, awsInfrastructure());
const verify = createAuthenticator(settings);
const limits = { maxPromptChars: settings.maxPromptChars };

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
    const turn = await beginTurn(chat, caller, request);
    return await respondWithTurn(turn, request, caller, receivedAt, settings.sseFlushMs);
  } catch (error) {
    return errorResult(error, logger);
  }
}

export const handler = middy<HttpEvent, ChatResult>({ executionMode: executionModeStreamifyResponse })
  .use(withLogging())
  .use(withCorrelationId())
  .use(withOriginGuard<ChatResult>(origin, logger))
  .handler(postChat);
