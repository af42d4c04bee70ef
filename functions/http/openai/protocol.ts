import { logger } from '../../commons/logger';
import type { ChatProtocol } from '../chat-handler';
import { openAiErrorResult } from './errors';
import { type CompletionLimits, parseCompletionRequest } from './requests';
import { completionWire } from './responses';

/** `/v1/chat/completions` as a protocol of the one chat pipeline (../chat-handler.ts). */
export function completionsProtocol(limits: CompletionLimits): ChatProtocol {
  return {
    parse: (event) => {
      const { request, model, includeUsage } = parseCompletionRequest(event, limits);
      return { request, wire: completionWire({ model, includeUsage, createdAt: Date.now() }) };
    },
    errorResult: (error) => openAiErrorResult(error, logger),
  };
}
