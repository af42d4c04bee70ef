import { requestStop } from '../domain/turn-lifecycle';
import { maxTurnMs } from '../settings/policies';
import { logger } from './commons/logger';
import { composition } from './composition';
import { json, parseJsonBody } from './http/event';
import { httpHandler } from './http/handler';
import { parseStopRequest } from './http/requests';

const root = composition();
const deps = {
  repository: root.turnRepository(),
  stopFlags: root.stopFlags(),
  clock: root.clock,
  /** A stop for an id older than the longest turn has nothing to stop. */
  maxTurnMs: maxTurnMs(root.settings),
};

/** POST /chat/stop: flags the caller's running turn; the streaming function polls the flag. */
export const { raw: postStop, handler } = httpHandler('POST', root.authenticate(), async (event, caller) => {
  const { messageId } = parseStopRequest(parseJsonBody(event));
  const result = await requestStop(deps, caller, messageId);
  logger.info('stop requested', { message_id: messageId });
  return json(200, { message_id: messageId, ...result });
});
