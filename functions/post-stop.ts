import { createSqsClient } from '../adapters/sqs/clients';
import { SqsStopDelivery } from '../adapters/sqs/stop-inbox';
import { maxTurnMs } from '../settings/policies';
import { requestStop } from '../use-cases/stop-turn';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { json, parseJsonBody } from './http/event';
import { httpHandler } from './http/handler';
import { parseStopRequest } from './http/requests';
import { settings } from './settings';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const deps = {
  ...createTurnStores(settings, infrastructure),
  stopDelivery: new SqsStopDelivery(createSqsClient(), settings.stopInboxPrefix),
  clock: infrastructure.clock,
  /** A stop for an id older than the longest turn has nothing to stop. */
  maxTurnMs: maxTurnMs(settings),
};

/** POST /chat/stop: flags the caller's running turn and pushes the stop to its streaming container. */
export const { raw: postStop, handler } = httpHandler(
  'POST',
  { origin: createOriginGuard(settings, awsInfrastructure()), authenticate: createAuthenticator(settings) },
  async (event, caller) => {
    const { messageId } = parseStopRequest(parseJsonBody(event));
    const result = await requestStop(deps, caller, messageId);
    logger.info('stop requested', { message_id: messageId });
    return json(200, { message_id: messageId, ...result });
  },
);
