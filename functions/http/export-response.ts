/**
 * GET /chat/export's body: one JSON document (contract/http-api.ts ExportBody) written as it is read —
 * the conversations first (small), then the turns a page at a time, so a long history never has to fit
 * in the function's memory. A read failing midway cuts the document short (invalid JSON, never a
 * complete-looking partial export) and is logged.
 */
import { Readable } from 'node:stream';
import type { Conversation } from '../../domain/conversation';
import { errorName } from '../../domain/errors';
import type { Turn } from '../../domain/turn';
import { bindToLogScope } from '../commons/log-scope';
import { logger } from '../commons/logger';
import type { StreamResult } from './chat-responses';
import { toConversationEntry } from './conversation-responses';
import { toChatEntry } from './history-responses';

export function exportResponse(
  exportedAt: string,
  conversations: readonly Conversation[],
  pages: AsyncIterable<Turn[]>,
): StreamResult {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-disposition': 'attachment; filename="chat-export.json"',
    },
    body: Readable.from(bindToLogScope(exportDocument(exportedAt, conversations, pages)), {
      objectMode: false,
    }),
  };
}

async function* exportDocument(
  exportedAt: string,
  conversations: readonly Conversation[],
  pages: AsyncIterable<Turn[]>,
): AsyncGenerator<string> {
  yield `{"exported_at":${JSON.stringify(exportedAt)},"conversations":${JSON.stringify(
    conversations.map(toConversationEntry),
  )},"chats":[`;
  let count = 0;
  try {
    for await (const page of pages) {
      const entries = page.map((turn) => JSON.stringify(toChatEntry(turn)));
      yield `${count > 0 ? ',' : ''}${entries.join(',')}`;
      count += page.length;
    }
  } catch (error) {
    logger.error('export cut short', { turns: count, error: errorName(error) });
    throw error;
  }
  yield ']}';
  logger.info('history exported', { conversations: conversations.length, turns: count });
}
