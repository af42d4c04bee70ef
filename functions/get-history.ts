import { listHistory } from '../domain/history';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { query } from './http/event';
import { httpHandler } from './http/handler';
import { historyPageBody } from './http/history-responses';
import { parseHistoryRequest } from './http/requests';
import { settings } from './settings';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';
import { createTurnStores } from './wiring/turns';

const { repository } = createTurnStores(settings, awsInfrastructure());

/** GET /chat/history: the caller's turns, newest first, one page at a time. */
export const { raw: getHistory, handler } = httpHandler(
  'GET',
  { origin: createOriginGuard(settings, awsInfrastructure()), authenticate: createAuthenticator(settings) },
  async (event, caller) => {
    const request = parseHistoryRequest(query(event));
    const page = await listHistory(repository, caller, request);
    logger.info('history listed', { count: page.turns.length, more: page.nextCursor !== undefined });
    return historyPageBody(page);
  },
);
