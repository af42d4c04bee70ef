import middy from '@middy/core';
import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import { parseHistoryRequest } from '../domain/chat-request';
import { listHistory } from '../domain/history';
import type { Turn } from '../domain/turn';
import { chatTable } from '../lib/resources';
import { authenticate } from './commons/auth';
import { errorResult, type HttpEvent, type HttpResult, json, query, requireMethod } from './commons/http';
import { logger } from './commons/logger';
import { withCorrelationId, withLogging } from './commons/middleware';

const repository = new DynamoDbTurnRepository(documentClient, tableNameFromEnv(chatTable));

/** The contract's shape of one history entry. */
export function toChatEntry(turn: Turn) {
  return {
    id: turn.id,
    user_message: turn.userMessage,
    assistant_response: turn.assistantResponse,
    timestamp: turn.createdAt,
    conversation_id: turn.conversationId,
    status: turn.status,
    ...(turn.errorCode ? { error_code: turn.errorCode } : {}),
  };
}

export async function getHistory(event: HttpEvent): Promise<HttpResult> {
  try {
    requireMethod(event, 'GET');
    const caller = await authenticate(event);
    const request = parseHistoryRequest(query(event));
    const page = await listHistory(repository, caller, request);
    logger.info('history listed', { count: page.turns.length, more: page.nextCursor !== undefined });
    return json(200, {
      chats: page.turns.map(toChatEntry),
      ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
    });
  } catch (error) {
    return errorResult(error, logger);
  }
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(withLogging())
  .use(withCorrelationId())
  .handler(getHistory);
