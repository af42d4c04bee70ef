import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import type { ChatRequest } from '../../domain/chat-request';
import type { MeteredChat } from '../../use-cases/metered-chat';
import { logger, withLogging } from '../commons/logger';
import type { Authenticate } from './auth';
import { beginTurn, type ChatResult, chatWire, respondWithTurn, type TurnWire } from './chat-responses';
import { errorResult, type HttpEvent, type HttpResult, requireMethod } from './event';
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
  /** The wire protocol; POST /chat's own unless given (`/v1/chat/completions`: openai/protocol.ts). */
  readonly protocol?: ChatProtocol;
}

/**
 * A turn's wire protocol: how its request is read, how its answer is written, how errors look. The
 * pipeline (origin, caller, quota, admission, turn) is the same for every protocol.
 */
export interface ChatProtocol {
  /** The use cases' input, and the wire format its answer takes (which may depend on the request). */
  parse(event: HttpEvent): { readonly request: ChatRequest; readonly wire: TurnWire };
  errorResult(error: unknown): HttpResult;
}

/** POST /chat's protocol: contract/http-api.ts and contract/sse.ts. */
export function chatProtocol(limits: { readonly maxPromptChars: number }): ChatProtocol {
  return {
    parse: (event) => ({ request: parseChatHttpRequest(event, limits), wire: chatWire }),
    errorResult: (error) => errorResult(error, logger),
  };
}

/**
 * POST /chat (and `/v1/chat/completions`, in its protocol): the origin check, the verified caller, the parsed request, one turn begun under the caller's quota (then admission),
 * answered as JSON once stored or streamed as SSE (chat-responses.ts). The whole turn, its stream
 * included, runs in the request's log scope.
 */
export function chatHandler(deps: ChatHandlerDeps) {
  const protocol = deps.protocol ?? chatProtocol({ maxPromptChars: deps.maxPromptChars });
  const raw = async (event: HttpEvent): Promise<ChatResult> => {
    const receivedAt = Date.now();
    try {
      const refused = await originRefusal(deps.origin, event, logger);
      if (refused) return refused;
      requireMethod(event, 'POST');
      const caller = await deps.authenticate(event);
      const { request, wire } = protocol.parse(event);
      const metered = await beginTurn(deps.chat, caller, request);
      // Every answer to a counted prompt says where the caller's quota stands: 200, SSE, 429 and 503 alike.
      const headers = rateLimitHeaders(metered.rateLimit);
      try {
        if (!metered.turn) throw metered.error;
        return withHeaders(
          await respondWithTurn(metered.turn, request, caller, receivedAt, deps.sseFlushMs, wire),
          headers,
        );
      } catch (error) {
        return withHeaders(protocol.errorResult(error), headers);
      }
    } catch (error) {
      return protocol.errorResult(error);
    }
  };
  return {
    raw,
    handler: middy<HttpEvent, ChatResult>({ executionMode: executionModeStreamifyResponse })
      .use(withLogging())
      .handler(inRequestLogScope(raw)),
  };
}
