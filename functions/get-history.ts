import { DomainError } from '../domain/errors';
import { eraseHistory, eraseStatus } from '../use-cases/erase-history';
import { listVisibleHistory } from '../use-cases/visible-history';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { eraseStatusBody } from './http/conversation-responses';
import { json, query } from './http/event';
import { httpHandler } from './http/handler';
import { historyPageBody } from './http/history-responses';
import { parseHistoryRequest } from './http/requests';
import { settings } from './settings';
import { createConversationErasure } from './wiring/conversations';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const { repository } = createTurnStores(settings, infrastructure);
const erasure = createConversationErasure(settings, infrastructure);
/** Read repair: an in_progress turn older than this died with its process (domain/read-repair.ts). */
const interruptedAfterMs = settings.interruptedAfterSeconds * 1000;

/**
 * GET /chat/history: the caller's turns, newest first, one page at a time, without what an erase hid.
 * DELETE /chat/history: erases them all (202). GET /chat/history/erase: where that erase stands.
 */
export const { raw: getHistory, handler } = httpHandler(
  ['GET', 'DELETE'],
  { origin: createOriginGuard(settings, infrastructure), authenticate: createAuthenticator(settings) },
  async (event, caller, method) => {
    if (event.rawPath === '/chat/history/erase') {
      if (method !== 'GET') throw new DomainError('method_not_allowed', `Use GET for ${event.rawPath}.`);
      return json(200, eraseStatusBody(await eraseStatus(erasure, caller)));
    }
    if (method === 'DELETE') {
      const erased = await eraseHistory(erasure, caller);
      logger.info('history erase accepted', { status: erased.status });
      return json(202, eraseStatusBody(erased));
    }
    const request = parseHistoryRequest(query(event));
    const page = await listVisibleHistory(
      { repository, marks: erasure.marks, clock: infrastructure.clock, interruptedAfterMs },
      caller,
      request,
    );
    logger.info('history listed', { count: page.turns.length, more: page.nextCursor !== undefined });
    return historyPageBody(page);
  },
);
