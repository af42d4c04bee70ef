import { DynamoDbQuotaCounter } from '../adapters/dynamodb/quota-counter';
import { storeWithinQuota } from '../use-cases/store-within-quota';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { json, parseJsonBody } from './http/event';
import { httpHandler } from './http/handler';
import { parseStoreRequest } from './http/requests';
import { settings } from './settings';
import { createConversationStores } from './wiring/conversations';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';
import { createTurnStores } from './wiring/turns';

const infrastructure = awsInfrastructure();
const deps = {
  ...createTurnStores(settings, infrastructure),
  ...createConversationStores(settings, infrastructure),
  quota: new DynamoDbQuotaCounter(infrastructure.documentClient, settings.chatTableName),
  clock: infrastructure.clock,
  log: infrastructure.log,
};
/** The same prompt limit as POST /chat (one MAX_PROMPT_CHARS), and the stored answer's own. */
const limits = { maxPromptChars: settings.maxPromptChars, maxAnswerChars: settings.maxStoredAnswerChars };

/** POST /chat/store: a finished turn sent by the client, stored idempotently on its id, within the day's bytes. */
export const { raw: postStore, handler } = httpHandler(
  'POST',
  { origin: createOriginGuard(settings, awsInfrastructure()), authenticate: createAuthenticator(settings) },
  async (event, caller) => {
    const request = parseStoreRequest(parseJsonBody(event), limits);
    const result = await storeWithinQuota(deps, caller, request);
    logger.info('turn stored', {
      message_id: result.id,
      created: result.created,
      prompt_chars: request.userMessage.length,
      answer_chars: request.assistantResponse.length,
    });
    return json(200, { status: 'success', id: result.id });
  },
);
