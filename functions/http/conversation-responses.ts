import type { ConversationEntry, EraseStatusBody } from '../../contract/http-api';
import type { Conversation, ConversationPage, Erasure } from '../../domain/conversation';
import { type HttpResult, json } from './event';

/** The contract's shape of one conversation. */
export function toConversationEntry(conversation: Conversation): ConversationEntry {
  return {
    id: conversation.id,
    title: conversation.title,
    created_at: conversation.createdAt,
    updated_at: conversation.updatedAt,
    turns: conversation.turns,
  };
}

/** GET /chat/conversations' 200. */
export function conversationPageBody(page: ConversationPage): HttpResult {
  return json(200, {
    conversations: page.conversations.map(toConversationEntry),
    ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
  });
}

export function eraseStatusBody(erasure: Erasure | undefined): EraseStatusBody {
  return erasure ? { status: erasure.status, erased_before: erasure.erasedBefore } : { status: 'none' };
}
