import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { MeteredChat } from '../../use-cases/metered-chat';
import { logger, withLogging } from '../commons/logger';
import type { Authenticate } from './auth';
import { beginTurn, type ChatResult, respondWithTurn } from './chat-responses';
import { errorResult, type HttpEvent, requireMethod } from './event';
import { inRequestLogScope } from './middleware';
import { type OriginGuard, originRefusal } from './origin-guard';
import { rateLimitHeaders, withHeaders } from './rate-limit-headers';
import { parseChatHttpRequest } from './requests';

export interface ChatHandlerDeps {
  /** ChatService under the caller's quota (use-cases/metered-chat.ts). */
  readonly chat: Pick<MeteredChat, 'begin'>;
  /** Refuses a request that did not come through CloudFront, first (origin-guard.ts). */
  readonly origin: OriginGuard;
  readonly authenticate: Authenticate;
  readonly maxPromptChars: number;
  /** SSE_FLUSH_MS (chat-responses.ts). */
  readonly sseFlushMs: number;
}

/**
 * POST /chat: the origin check, the verified caller, the parsed request, one turn begun under the caller's quota (then admission),
 * answered as JSON once stored or streamed as SSE (chat-responses.ts). The whole turn, its stream
 * included, runs in the request's log scope.
 */
export function chatHandler(deps: ChatHandlerDeps) {
  const limits = { maxPromptChars: deps.maxPromptChars };
  const raw = async (event: HttpEvent): Promise<ChatResult> => {
    const receivedAt = Date.now();
    try {
      const refused = await originRefusal(deps.origin, event, logger);
      if (refused) return refused;
      requireMethod(event, 'POST');
      const caller = await deps.authenticate(event);
      const request = parseChatHttpRequest(event, limits);
      const metered = await beginTurn(deps.chat, caller, request);
      // Every answer to a counted prompt says where the caller's quota stands: 200, SSE, 429 and 503 alike.
      const headers = rateLimitHeaders(metered.rateLimit);
      try {
        if (!metered.turn) throw metered.error;
        return withHeaders(
          await respondWithTurn(metered.turn, request, caller, receivedAt, deps.sseFlushMs),
          headers,
        );
      } catch (error) {
        return withHeaders(errorResult(error, logger), headers);
      }
    } catch (error) {
      return errorResult(error, logger);
    }
  };
  return {
    raw,
    handler: middy<HttpEvent, ChatResult>({ executionMode: executionModeStreamifyResponse })
      .use(withLogging())
      .handler(inRequestLogScope(raw)),
  };
}
