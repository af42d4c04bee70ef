import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbStopFlags } from '../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import { invalidRequest } from '../domain/errors';
import { systemClock } from '../domain/ports';
import { requestStop } from '../domain/turn-lifecycle';
import { chatTable } from '../lib/resources';
import { getNumberFromEnv } from './commons/env';
import { json, parseJsonBody } from './commons/http';
import { httpHandler } from './commons/http-handler';
import { logger } from './commons/logger';

const tableName = tableNameFromEnv(chatTable);
const repository = new DynamoDbTurnRepository(documentClient, tableName);
const stopFlags = new DynamoDbStopFlags(documentClient, tableName, systemClock);
/** The chat function's cap on one turn (MAX_TURN_SECONDS): a stop for an id older than that has nothing to stop. */
const maxTurnMs = getNumberFromEnv('MAX_TURN_SECONDS', 240) * 1000;

function parseMessageId(body: unknown): string {
  const messageId =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).message_id : undefined;
  if (typeof messageId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(messageId)) {
    throw invalidRequest('"message_id" must be the id of one of your turns.');
  }
  return messageId;
}

export const { raw: postStop, handler } = httpHandler('POST', async (event, caller) => {
  const messageId = parseMessageId(parseJsonBody(event));
  const result = await requestStop(
    { repository, stopFlags, clock: systemClock, maxTurnMs },
    caller,
    messageId,
  );
  logger.info('stop requested', { message_id: messageId });
  return json(200, { message_id: messageId, ...result });
});
