import type { HistoryPage } from '../../domain/ports';
import type { Turn } from '../../domain/turn';
import { type HttpResult, json } from './event';

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
    ...(turn.revises?.kind === 'regeneration' ? { regenerate_of: turn.revises.of } : {}),
    ...(turn.revises?.kind === 'edit' ? { edit_of: turn.revises.of } : {}),
  };
}

/** GET /chat/history's 200: the page's turns and, when more exist, the cursor to the next page. */
export function historyPageBody(page: HistoryPage): HttpResult {
  return json(200, {
    chats: page.turns.map(toChatEntry),
    ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}),
  });
}
