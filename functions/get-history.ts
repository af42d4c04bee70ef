import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import type { HistoryEntry } from '../contract/http-api';
import { parseHistoryRequest } from '../domain/chat-request';
import { listHistory } from '../domain/history';
import type { Turn } from '../domain/turn';
import { chatTable } from '../lib/resources';
import { json, query } from './commons/http';
import { httpHandler } from './commons/http-handler';
import { logger } from './commons/logger';

const repository = new DynamoDbTurnRepository(documentClient, tableNameFromEnv(chatTable));

/** The contract's shape of one history entry. */
export function toChatEntry(turn: Turn): HistoryEntry {
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

export const { raw: getHistory, handler } = httpHandler('GET', async (event, caller) => {
  const request = parseHistoryRequest(query(event));
  const page = await listHistory(repository, caller, request);
  logger.info('history listed', { count: page.turns.length, more: page.nextCursor !== undefined });
  return json(200, {
    chats: page.turns.map(toChatEntry),
    ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
  });
});
