import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbStopFlags } from '../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import type { StopResponseBody } from '../contract/http-api';

import { parseStopRequest } from '../domain/chat-request';
import { systemClock } from '../domain/ports';
import { chatTable } from '../lib/resources';
import { requestStop } from '../use-cases/stop-turn';
import { maxTurnMsFromEnv } from './commons/env';
import { json, parseJsonBody } from './commons/http';
import { httpHandler } from './commons/http-handler';
import { logger } from './commons/logger';

const tableName = tableNameFromEnv(chatTable);
const repository = new DynamoDbTurnRepository(documentClient, tableName);
const stopFlags = new DynamoDbStopFlags(documentClient, tableName, systemClock);
/** A stop for an id older than the longest turn has nothing to stop. */
const maxTurnMs = maxTurnMsFromEnv();

export const { raw: postStop, handler } = httpHandler('POST', async (event, caller) => {
  const { messageId } = parseStopRequest(parseJsonBody(event));
  const result = await requestStop(
    { repository, stopFlags, clock: systemClock, maxTurnMs },
    caller,
    messageId,
  );
  logger.info('stop requested', { message_id: messageId });
  return json(200, { message_id: messageId, ...result } satisfies StopResponseBody);
});
