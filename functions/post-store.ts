import { storeTurn } from '../domain/history';
import { logger } from './commons/logger';
import { composition } from './composition';
import { json, parseJsonBody } from './http/event';
import { httpHandler } from './http/handler';
import { parseStoreRequest } from './http/requests';

const { turnRepository, authenticate, clock, settings } = composition();
const repository = turnRepository();
/** The same prompt limit as POST /chat (one MAX_PROMPT_CHARS), and the stored answer's own. */
const limits = { maxPromptChars: settings.maxPromptChars, maxAnswerChars: settings.maxStoredAnswerChars };

/** POST /chat/store: a finished turn sent by the client, stored idempotently on its id. */
export const { raw: postStore, handler } = httpHandler('POST', authenticate(), async (event, caller) => {
  const request = parseStoreRequest(parseJsonBody(event), limits);
  const result = await storeTurn(repository, clock, caller, request);
  logger.info('turn stored', {
    message_id: result.id,
    created: result.created,
    prompt_chars: request.userMessage.length,
    answer_chars: request.assistantResponse.length,
  });
  return json(200, { status: 'success', id: result.id });
});
