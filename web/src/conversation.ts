/**
 * The open conversation: its turns from history (newest page first, earlier pages on demand), re-read
 * while a turn is still generating elsewhere, with the live prompt's view kept in place.
 */
import type { HistoryEntry } from '../../contract/http-api';
import { byId, h } from './dom';
import type { Revision } from './send';
import type { AppState } from './state';
import { describeErrorCode, TurnView } from './turn-view';

export interface ConversationCallbacks {
  /** Tells the sidebar about a turn of this conversation. */
  readonly noteTurn: (conversationId: string, prompt: string, timestamp: string) => void;
  readonly renderSidebar: () => void;
  readonly titleOf: (conversationId: string) => string | undefined;
  /** Sends a prompt again as a new turn of its conversation: a retry, a regeneration or an edit. */
  readonly onResend: (prompt: string, conversationId: string, revision?: Revision) => void;
}

export interface ConversationView {
  /** Shows a conversation (undefined: a new chat) and makes it the active one. */
  readonly open: (id: string | undefined) => Promise<void>;
  /** Appends a turn at the bottom (the live prompt) and scrolls to it. */
  readonly showTurn: (element: HTMLElement) => void;
  readonly setTitle: (title: string) => void;
  readonly nearBottom: () => boolean;
  readonly scrollToBottom: () => void;
  /** Puts the empty-chat greeting back when a new chat lost its only turn. */
  readonly showEmptyIfBlank: () => void;
  /** Stops polling and empties the column (sign-out). */
  readonly clear: () => void;
  /** Offers Regenerate on the last settled turn only, and Edit on every prompt (none while one is live). */
  readonly refreshActions: () => void;
}

const CONVERSATION_PAGE = 50;
const POLL_MS = 2_000;
const MAX_POLLS = 30;

export function createConversationView(state: AppState, callbacks: ConversationCallbacks): ConversationView {
  const titleEl = byId('conversation-title', HTMLElement);
  const thread = byId('thread', HTMLElement);
  const turnsEl = byId('turns', HTMLElement);
  const emptyEl = byId('empty', HTMLElement);
  const earlierButton = byId('load-earlier', HTMLButtonElement);

  /** Bumped by every open: an answer for an older open is dropped. */
  let openSeq = 0;
  let earlierCursor: string | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let pollsLeft = 0;

  async function open(id: string | undefined): Promise<void> {
    const client = state.api;
    if (!client) return;
    const seq = ++openSeq;
    state.activeId = id;
    clearTimeout(pollTimer);
    pollsLeft = MAX_POLLS;
    earlierCursor = undefined;
    earlierButton.hidden = true;
    turnsEl.replaceChildren();
    callbacks.renderSidebar();
    titleEl.textContent = id === undefined ? 'New chat' : (callbacks.titleOf(id) ?? '');
    emptyEl.hidden = id !== undefined;
    const { live } = state;
    if (id === undefined) {
      if (live && live.conversationId === undefined) showTurn(live.view.el);
      return;
    }
    thread.setAttribute('aria-busy', 'true');
    try {
      const page = await client.history({ conversationId: id, limit: CONVERSATION_PAGE });
      if (seq !== openSeq) return;
      renderTurns(page.chats, 'replace');
      earlierCursor = page.next_cursor;
      earlierButton.hidden = earlierCursor === undefined;
      const oldest = page.chats[page.chats.length - 1];
      // A conversation the list has not paged in yet is titled by its oldest prompt seen, as the server titles it.
      const newest = page.chats[0];
      if (newest && oldest) callbacks.noteTurn(id, oldest.user_message, newest.timestamp);
      callbacks.renderSidebar();
      titleEl.textContent = callbacks.titleOf(id) ?? oldest?.user_message ?? '';
      const current = state.live;
      if (page.chats.length === 0 && !(current && current.conversationId === id)) emptyEl.hidden = false;
      scrollToBottom();
      if (stillGenerating(page.chats)) schedulePoll(id);
    } catch {
      if (seq !== openSeq) return;
      turnsEl.replaceChildren(
        h('p', { class: 'load-error', role: 'alert' }, "Couldn't load this conversation."),
      );
    } finally {
      if (seq === openSeq) thread.removeAttribute('aria-busy');
    }
  }

  /** A turn in progress that is not the one this tab is streaming. */
  function stillGenerating(entries: readonly HistoryEntry[]): boolean {
    return entries.some((entry) => entry.status === 'in_progress' && entry.id !== state.live?.messageId);
  }

  /** Renders history entries (newest first, as the API pages them) oldest → newest. */
  function renderTurns(entries: readonly HistoryEntry[], mode: 'replace' | 'prepend'): void {
    const { live } = state;
    const views = [...entries]
      .reverse()
      .filter((entry) => entry.id !== live?.messageId)
      .map((entry) => historyTurn(entry).el);
    if (mode === 'prepend') {
      turnsEl.prepend(...views);
    } else {
      turnsEl.replaceChildren(...views);
      if (live && live.conversationId === state.activeId) turnsEl.append(live.view.el);
    }
    refreshActions();
  }

  function refreshActions(): void {
    const views = [...turnsEl.children].map((element) => TurnView.of(element));
    const last = views.at(-1);
    for (const view of views) {
      const id = view?.messageId;
      const conversationId = view?.conversationId;
      if (!view || id === undefined || conversationId === undefined || state.live?.view === view) continue;
      const busy = state.live !== undefined;
      view.setActions({
        ...(view === last && !busy
          ? {
              onRegenerate: () =>
                callbacks.onResend(view.prompt, conversationId, { kind: 'regeneration', of: id }),
            }
          : {}),
        ...(busy
          ? {}
          : {
              onEdit: (prompt: string) =>
                callbacks.onResend(prompt, conversationId, { kind: 'edit', of: id }),
            }),
      });
    }
  }

  function historyTurn(entry: HistoryEntry): TurnView {
    const kind = entry.regenerate_of ? 'regeneration' : entry.edit_of ? 'edit' : 'prompt';
    const view = new TurnView(entry.user_message, entry.assistant_response, kind);
    view.messageId = entry.id;
    view.conversationId = entry.conversation_id;
    const revision: Revision | undefined = entry.regenerate_of
      ? { kind: 'regeneration', of: entry.regenerate_of }
      : entry.edit_of
        ? { kind: 'edit', of: entry.edit_of }
        : undefined;
    const retry = () => callbacks.onResend(entry.user_message, entry.conversation_id, revision);
    if (entry.status === 'failed') view.setStatus('failed', describeErrorCode(entry.error_code), retry);
    else if (entry.status === 'stopped' || entry.status === 'interrupted')
      view.setStatus(entry.status, '', retry);
    else view.setStatus(entry.status);
    return view;
  }

  earlierButton.addEventListener('click', () => {
    const client = state.api;
    const id = state.activeId;
    const cursor = earlierCursor;
    if (!client || id === undefined || cursor === undefined) return;
    earlierButton.disabled = true;
    const seq = openSeq;
    client
      .history({ conversationId: id, limit: CONVERSATION_PAGE, cursor })
      .then((page) => {
        if (seq !== openSeq) return;
        // Keeps the turn under the reader in place while older ones appear above it.
        const before = thread.scrollHeight - thread.scrollTop;
        renderTurns(page.chats, 'prepend');
        thread.scrollTop = thread.scrollHeight - before;
        earlierCursor = page.next_cursor;
        earlierButton.hidden = earlierCursor === undefined;
      })
      .catch(() => undefined)
      .finally(() => {
        earlierButton.disabled = false;
      });
  });

  /** A turn still generating (another tab, or a reload mid-answer) is re-read until it settles. */
  function schedulePoll(id: string): void {
    if (pollsLeft-- <= 0) return;
    pollTimer = setTimeout(() => {
      const client = state.api;
      if (!client || state.activeId !== id) return;
      const seq = openSeq;
      client
        .history({ conversationId: id, limit: CONVERSATION_PAGE })
        .then((page) => {
          if (seq !== openSeq) return;
          const atBottom = nearBottom();
          renderTurns(page.chats, 'replace');
          if (atBottom) scrollToBottom();
          if (stillGenerating(page.chats)) schedulePoll(id);
        })
        .catch(() => schedulePoll(id));
    }, POLL_MS);
  }

  function nearBottom(): boolean {
    return thread.scrollHeight - thread.scrollTop - thread.clientHeight < 120;
  }

  function scrollToBottom(): void {
    thread.scrollTop = thread.scrollHeight;
  }

  function showTurn(element: HTMLElement): void {
    emptyEl.hidden = true;
    turnsEl.append(element);
    scrollToBottom();
  }

  return {
    open,
    showTurn,
    setTitle: (title) => {
      titleEl.textContent = title;
    },
    nearBottom,
    scrollToBottom,
    showEmptyIfBlank() {
      if (turnsEl.childElementCount === 0 && state.activeId === undefined) emptyEl.hidden = false;
    },
    clear() {
      clearTimeout(pollTimer);
      turnsEl.replaceChildren();
    },
    refreshActions,
  };
}
