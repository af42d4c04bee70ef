/**
 * History as the user may see it: the turns an erase has not hidden. The erase mark is one small read
 * beside the page's Query (never on POST /chat's path); turns come newest first, so the first erased one
 * ends the history. A turn still in_progress past the longest stream is shown interrupted (read repair,
 * domain/read-repair.ts): its process died, and the sweeper may not have written that yet.
 */

import type { HistoryRequest } from '../domain/chat-request';
import type { Conversation } from '../domain/conversation';
import { type Erasure, isErased } from '../domain/conversation';
import type {
  Clock,
  ConversationRepository,
  ErasureMarks,
  HistoryPage,
  TurnRepository,
} from '../domain/ports';
import { asRead } from '../domain/read-repair';
import type { Caller, Turn } from '../domain/turn';

export interface HistoryDeps {
  readonly repository: TurnRepository;
  readonly marks: ErasureMarks;
  readonly clock: Clock;
  /** INTERRUPTED_AFTER_SECONDS: an in_progress turn older than this cannot be streaming any more. */
  readonly interruptedAfterMs: number;
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
  return visiblePart(deps, page, erasure);
}

function visiblePart(
  deps: Pick<HistoryDeps, 'clock' | 'interruptedAfterMs'>,
  page: HistoryPage,
  erasure: Erasure | undefined,
): HistoryPage {
  const repair = { now: deps.clock.now(), interruptedAfterMs: deps.interruptedAfterMs };
  const turns = page.turns.map((turn) => asRead(turn, repair));
  const firstErased = turns.findIndex((turn) => isErased(turn.createdAt, erasure));
  // Everything after the first erased turn is older, hence erased too: no next page.
  return firstErased < 0 ? { ...page, turns } : { turns: turns.slice(0, firstErased) };
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
      deps,
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
