import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { ChatService } from '../../use-cases/start-turn';
import { logger, withLogging } from '../commons/logger';
import type { Authenticate } from './auth';
import { beginTurn, type ChatResult, respondWithTurn } from './chat-responses';
import { errorResult, type HttpEvent, requireMethod } from './event';
import { inRequestLogScope } from './middleware';
import { type OriginGuard, originRefusal } from './origin-guard';
import { parseChatHttpRequest } from './requests';

export interface ChatHandlerDeps {
  readonly chat: Pick<ChatService, 'begin'>;
  /** Refuses a request that did not come through CloudFront, first (origin-guard.ts). */
  readonly origin: OriginGuard;
  readonly authenticate: Authenticate;
  readonly maxPromptChars: number;
  /** SSE_FLUSH_MS (chat-responses.ts). */
  readonly sseFlushMs: number;
}

/**
 * POST /chat: the origin check, the verified caller, the parsed request, one turn begun by ChatService (admission first),
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
      const turn = await beginTurn(deps.chat, caller, request);
      return await respondWithTurn(turn, request, caller, receivedAt, deps.sseFlushMs);
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
