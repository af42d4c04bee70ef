import { listHistory } from '../domain/history';
import { logger } from './commons/logger';
import { composition } from './composition';
import { query } from './http/event';
import { httpHandler } from './http/handler';
import { historyPageBody } from './http/history-responses';
import { parseHistoryRequest } from './http/requests';

const { turnRepository, authenticate } = composition();
const repository = turnRepository();

/** GET /chat/history: the caller's turns, newest first, one page at a time. */
export const { raw: getHistory, handler } = httpHandler('GET', authenticate(), async (event, caller) => {
  const request = parseHistoryRequest(query(event));
  const page = await listHistory(repository, caller, request);
  logger.info('history listed', { count: page.turns.length, more: page.nextCursor !== undefined });
  return historyPageBody(page);
});
