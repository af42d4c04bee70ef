import { deleteConversation, renameConversation } from '../use-cases/conversations';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { parseConversationPath, parseRenameBody } from './http/conversation-requests';
import { toConversationEntry } from './http/conversation-responses';
import { json, parseJsonBody } from './http/event';
import { httpHandler } from './http/handler';
import { settings } from './settings';
import { createConversationErasure } from './wiring/conversations';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

const deps = createConversationErasure(settings, awsInfrastructure());

/** PATCH /chat/conversations/{id} renames it (200 with it); DELETE deletes it and its turns (204). */
export const { raw: editConversation, handler } = httpHandler(
  ['PATCH', 'DELETE'],
  { origin: createOriginGuard(settings, awsInfrastructure()), authenticate: createAuthenticator(settings) },
  async (event, caller, method) => {
    const conversationId = parseConversationPath(event.rawPath);
    if (method === 'PATCH') {
      // Titles are the user's words: never logged.
      const { title } = parseRenameBody(parseJsonBody(event));
      const renamed = await renameConversation(deps, caller, conversationId, title);
      logger.info('conversation renamed', { conversation_id: conversationId });
      return json(200, toConversationEntry(renamed));
    }
    const deleted = await deleteConversation(deps, caller, conversationId);
    logger.info('conversation deleted', {
      conversation_id: conversationId,
      turns_deleted: deleted.turnsDeleted,
      done: deleted.done,
    });
    return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
  },
);
