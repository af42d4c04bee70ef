/**
 * History as the user may see it: the turns an erase has not hidden. The erase mark is one small read
 * beside the page's Query (never on POST /chat's path); turns come newest first, so the first erased one
 * ends the history.
 */

import type { HistoryRequest } from '../domain/chat-request';
import type { Conversation } from '../domain/conversation';
import { type Erasure, isErased } from '../domain/conversation';
import type { ConversationRepository, ErasureMarks, HistoryPage, TurnRepository } from '../domain/ports';
import type { Caller, Turn } from '../domain/turn';

export interface HistoryDeps {
  readonly repository: TurnRepository;
  readonly marks: ErasureMarks;
}

export async function listVisibleHistory(
  deps: HistoryDeps,
  caller: Caller,
  request: HistoryRequest,
): Promise<HistoryPage> {
  const [page, erasure] = await Promise.all([
    deps.repository.listTurns(caller.userId, request),
    deps.marks.get(caller.userId),
  ]);
  return visiblePart(page, erasure);
}

function visiblePart(page: HistoryPage, erasure: Erasure | undefined): HistoryPage {
  const firstErased = page.turns.findIndex((turn) => isErased(turn.createdAt, erasure));
  // Everything after the first erased turn is older, hence erased too: no next page.
  return firstErased < 0 ? page : { turns: page.turns.slice(0, firstErased) };
}

/** Turns per page of an export: each page is written out before the next is read. */
export const EXPORT_PAGE_TURNS = 100;

/** Every conversation of the caller, newest activity first (small items: read at once). */
export function allConversations(
  conversations: ConversationRepository,
  caller: Caller,
): Promise<Conversation[]> {
  return conversations.listAll(caller.userId);
}

/** The caller's whole visible history, newest first, a page at a time (GET /chat/export streams it). */
export async function* exportTurns(deps: HistoryDeps, caller: Caller): AsyncGenerator<Turn[]> {
  const erasure = await deps.marks.get(caller.userId);
  let cursor: string | undefined;
  do {
    const page = visiblePart(
      await deps.repository.listTurns(caller.userId, {
        limit: EXPORT_PAGE_TURNS,
        ...(cursor ? { cursor } : {}),
      }),
      erasure,
    );
    if (page.turns.length > 0) yield page.turns;
    cursor = page.nextCursor;
  } while (cursor);
}
