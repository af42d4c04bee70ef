/**
 * Conversations as the user sees them: a title and its activity. A conversation's turns live apart
 * (domain/turn.ts); this is the small record the sidebar lists, renames and deletes.
 */

export interface Conversation {
  readonly id: string;
  readonly title: string;
  /** ISO-8601: the start of its first turn (since it was last deleted or erased). */
  readonly createdAt: string;
  /** ISO-8601: the start of its latest turn. */
  readonly updatedAt: string;
  /** Turns started in it. */
  readonly turns: number;
}

/** A title longer than this is cut at a word boundary. */
export const TITLE_FROM_PROMPT_CHARS = 60;
const ELLIPSIS = '…';
const UNTITLED = 'New conversation';

/** Whitespace runs (newlines, tabs, several spaces) become one space; ends trimmed. */
export function collapseWhitespace(text: string): string {
  return text.replace(/\s+/gu, ' ').trim();
}

/**
 * A conversation's first title, from its first prompt: whitespace collapsed, and when longer than
 * `maxChars` cut at the last word boundary that fits (a word longer than that is cut inside), without a
 * trailing space or comma before the ellipsis. Counted in code points, so no emoji is split in half.
 */
export function titleFromPrompt(prompt: string, maxChars = TITLE_FROM_PROMPT_CHARS): string {
  const text = collapseWhitespace(prompt);
  if (text.length === 0) return UNTITLED;
  const chars = Array.from(text);
  if (chars.length <= maxChars) return text;
  const room = chars.slice(0, maxChars - 1);
  // A word that ends right where the room does is whole: the space after it is the boundary.
  const lastSpace = chars[room.length] === ' ' ? room.length : room.lastIndexOf(' ');
  // A boundary in the first third would leave a stub of a title: cut inside the long word instead.
  const kept = lastSpace >= Math.floor(maxChars / 3) ? room.slice(0, lastSpace) : room;
  const head = kept
    .join('')
    .replace(/[\s,;:.\-–—]+$/u, '')
    .trimEnd();
  return `${head.length > 0 ? head : kept.join('')}${ELLIPSIS}`;
}

export interface ConversationPage {
  readonly conversations: readonly Conversation[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** Newest activity first; ties (the same millisecond) by id, descending, so the order is total. */
export function byActivityDescending(a: Conversation, b: Conversation): number {
  if (a.updatedAt !== b.updatedAt) return a.updatedAt < b.updatedAt ? 1 : -1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? 1 : -1;
}

/** A listing position: the last conversation a page returned. */
export interface ConversationPosition {
  readonly updatedAt: string;
  readonly id: string;
}

/** True when `conversation` comes after `position` in byActivityDescending order. */
export function isAfter(conversation: Conversation, position: ConversationPosition): boolean {
  if (conversation.updatedAt !== position.updatedAt) return conversation.updatedAt < position.updatedAt;
  return conversation.id < position.id;
}

/** One page of conversations after `position`, from all of a user's conversations in any order. */
export function pageOfConversations(
  all: readonly Conversation[],
  limit: number,
  position: ConversationPosition | undefined,
): { readonly conversations: Conversation[]; readonly last?: ConversationPosition } {
  const ordered = [...all].sort(byActivityDescending);
  const remaining = position === undefined ? ordered : ordered.filter((c) => isAfter(c, position));
  const page = remaining.slice(0, limit);
  const lastOfPage = page.at(-1);
  return remaining.length > limit && lastOfPage
    ? { conversations: page, last: { updatedAt: lastOfPage.updatedAt, id: lastOfPage.id } }
    : { conversations: page };
}

/** What erasing everything left: the mark written before anything was deleted. */
export interface Erasure {
  /** ISO-8601: every turn created before it is erased (hidden at once, deleted by the erase job). */
  readonly erasedBefore: string;
  readonly status: 'erasing' | 'complete';
}

/** Turns of a history page the erase mark hides: newest first, so it stops at the first erased one. */
export function isErased(createdAt: string, erasure: Erasure | undefined): boolean {
  return erasure !== undefined && createdAt < erasure.erasedBefore;
}
