import middy from '@middy/core';
import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbStopFlags } from '../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import { invalidRequest } from '../domain/errors';
import { systemClock } from '../domain/ports';
import { requestStop } from '../domain/turn-lifecycle';
import { chatTable } from '../lib/resources';
import { authenticate } from './commons/auth';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  json,
  parseJsonBody,
  requireMethod,
} from './commons/http';
import { logger } from './commons/logger';
import { withCorrelationId, withLogging } from './commons/middleware';

const tableName = tableNameFromEnv(chatTable);
const repository = new DynamoDbTurnRepository(documentClient, tableName);
const stopFlags = new DynamoDbStopFlags(documentClient, tableName, systemClock);

function parseMessageId(body: unknown): string {
  const messageId =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).message_id : undefined;
  if (typeof messageId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(messageId)) {
    throw invalidRequest('"message_id" must be the id of one of your turns.');
  }
  return messageId;
}

export async function postStop(event: HttpEvent): Promise<HttpResult> {
  try {
    requireMethod(event, 'POST');
    const caller = await authenticate(event);
    const messageId = parseMessageId(parseJsonBody(event));
    const result = await requestStop(repository, stopFlags, caller, messageId);
    logger.info('stop requested', { message_id: messageId });
    return json(200, { message_id: messageId, ...result });
  } catch (error) {
    return errorResult(error, logger);
  }
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(withLogging())
  .use(withCorrelationId())
  .handler(postStop);
