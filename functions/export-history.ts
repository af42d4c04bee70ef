import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { allConversations, exportTurns } from '../use-cases/visible-history';
import { logger, withLogging } from './commons/logger';
import { createAuthenticator } from './http/auth';
import type { ChatResult } from './http/chat-responses';
import { errorResult, type HttpEvent, requireMethod } from './http/event';
import { exportResponse } from './http/export-response';
import { inRequestLogScope } from './http/middleware';
import { originRefusal } from './http/origin-guard';
import { settings } from './settings';
import { createConversationStores } from './wiring/conversations';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const { repository } = createTurnStores(settings, infrastructure);
const { conversations, marks } = createConversationStores(settings, infrastructure);
const origin = createOriginGuard(settings, infrastructure);
const authenticate = createAuthenticator(settings);
/** Read repair: an in_progress turn older than this died with its process (domain/read-repair.ts). */
const interruptedAfterMs = settings.interruptedAfterSeconds * 1000;

/**
 * GET /chat/export: the caller's whole history as one JSON document, streamed (a Function URL in
 * RESPONSE_STREAM mode) page by page. Failures before the first byte are the usual JSON errors.
 */
export async function exportHistory(event: HttpEvent): Promise<ChatResult> {
  try {
    const refused = await originRefusal(origin, event, logger);
    if (refused) return refused;
    requireMethod(event, 'GET');
    const caller = await authenticate(event);
    const exportedAt = new Date(infrastructure.clock.now()).toISOString();
    const all = await allConversations(conversations, caller);
    const history = { repository, marks, clock: infrastructure.clock, interruptedAfterMs };
    return exportResponse(exportedAt, all, exportTurns(history, caller));
  } catch (error) {
    return errorResult(error, logger);
  }
}

export const handler = middy<HttpEvent, ChatResult>({ executionMode: executionModeStreamifyResponse })
  .use(withLogging())
  .handler(inRequestLogScope(exportHistory));
