import { documentClient, tableNameFromEnv } from '../adapters/dynamodb/clients';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import type { StoreResponseBody } from '../contract/http-api';
import { parseStoreRequest } from '../domain/chat-request';
import { storeTurn } from '../domain/history';
import { systemClock } from '../domain/ports';
import { chatTable } from '../lib/resources';
import { getNumberFromEnv } from './commons/env';
import { json, parseJsonBody } from './commons/http';
import { httpHandler } from './commons/http-handler';
import { logger } from './commons/logger';

const repository = new DynamoDbTurnRepository(documentClient, tableNameFromEnv(chatTable));
const limits = {
  maxPromptChars: getNumberFromEnv('MAX_PROMPT_CHARS', 32_000),
  // A DynamoDB item holds 400 KB; keep the answer well inside it together with the prompt.
  maxAnswerChars: getNumberFromEnv('MAX_STORED_ANSWER_CHARS', 100_000),
};

export const { raw: postStore, handler } = httpHandler('POST', async (event, caller) => {
  const request = parseStoreRequest(parseJsonBody(event), limits);
  const result = await storeTurn(repository, systemClock, caller, request);
  logger.info('turn stored', {
    message_id: result.id,
    created: result.created,
    prompt_chars: request.userMessage.length,
    answer_chars: request.assistantResponse.length,
  });
  return json(200, { status: 'success', id: result.id } satisfies StoreResponseBody);
});
