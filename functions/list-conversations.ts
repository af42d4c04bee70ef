import { listConversations } from '../use-cases/conversations';
import { logger } from './commons/logger';
import { createAuthenticator } from './http/auth';
import { parseConversationListQuery } from './http/conversation-requests';
import { conversationPageBody } from './http/conversation-responses';
import { query } from './http/event';
import { httpHandler } from './http/handler';
import { settings } from './settings';
import { createConversationStores } from './wiring/conversations';
import { awsInfrastructure } from './wiring/infrastructure';
import { createOriginGuard } from './wiring/origin';

const deps = createConversationStores(settings, awsInfrastructure());

/** GET /chat/conversations: the caller's conversations, newest activity first, one page at a time. */
export const { raw: listConversationsRoute, handler } = httpHandler(
  'GET',
  { origin: createOriginGuard(settings, awsInfrastructure()), authenticate: createAuthenticator(settings) },
  async (event, caller) => {
    const page = await listConversations(deps, caller, parseConversationListQuery(query(event)));
    logger.info('conversations listed', {
      count: page.conversations.length,
      more: page.nextCursor !== undefined,
    });
    return conversationPageBody(page);
  },
);
