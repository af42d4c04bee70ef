/** The conversation list: built from history pages, grouped by date, paged in as it scrolls. */
import { byId, h } from './dom';
import type { AppState } from './state';

/** One sidebar entry, built from history turns. */
interface ConversationSummary {
  readonly id: string;
  title: string;
  /** Timestamp of the oldest turn seen, whose prompt is the title. */
  oldest: string;
  newest: string;
}

export interface SidebarCallbacks {
  /** A conversation was picked in the list. */
  readonly onSelect: (id: string) => void;
}

export interface Sidebar {
  /** A fresh list for a new session: forgets the old one and loads the first page. */
  readonly reset: () => void;
  /** Empties the list on screen (sign-out). */
  readonly clear: () => void;
  readonly render: () => void;
  /** Records a turn seen anywhere (history, a new prompt): creates or updates its conversation. */
  readonly noteTurn: (conversationId: string, prompt: string, timestamp: string) => void;
  readonly titleOf: (conversationId: string) => string | undefined;
  /** Closes the sidebar's overlay on narrow screens. */
  readonly close: () => void;
}

const SIDEBAR_PAGE = 50;
const EMPTY_TEXT = 'No conversations yet.';

export function createSidebar(state: AppState, callbacks: SidebarCallbacks): Sidebar {
  const sidebar = byId('sidebar', HTMLElement);
  const toggle = byId('toggle-sidebar', HTMLButtonElement);
  const list = byId('conversation-list', HTMLElement);
  const scroller = byId('conversations', HTMLElement);
  const status = byId('conversations-status', HTMLElement);

  const conversations = new Map<string, ConversationSummary>();
  let cursor: string | undefined;
  let done = false;
  /** The session whose next page is being fetched, if any. */
  let loading: AppState['api'];

  async function loadMore(): Promise<void> {
    const client = state.api;
    if (!client || loading === client || done) return;
    loading = client;
    status.textContent = 'Loading…';
    try {
      const page = await client.history({ limit: SIDEBAR_PAGE, ...(cursor ? { cursor } : {}) });
      if (client !== state.api) return;
      for (const entry of page.chats) noteTurn(entry.conversation_id, entry.user_message, entry.timestamp);
      cursor = page.next_cursor;
      done = page.next_cursor === undefined;
      status.textContent = '';
      render();
    } catch {
      // No automatic retry (it would spin while the API is down): the next scroll tries again.
      if (client === state.api) status.textContent = "Couldn't load conversations.";
      return;
    } finally {
      if (loading === client) loading = undefined;
    }
    if (client !== state.api) return;
    // Keep paging while the list does not fill the sidebar (the scroll handler needs something to scroll).
    if (!done && scroller.scrollHeight <= scroller.clientHeight + 40) void loadMore();
  }

  function noteTurn(conversationId: string, prompt: string, timestamp: string): void {
    const known = conversations.get(conversationId);
    if (!known) {
      conversations.set(conversationId, {
        id: conversationId,
        title: prompt,
        oldest: timestamp,
        newest: timestamp,
      });
      return;
    }
    if (timestamp <= known.oldest) {
      known.oldest = timestamp;
      known.title = prompt;
    }
    if (timestamp > known.newest) known.newest = timestamp;
  }

  function render(): void {
    const sorted = [...conversations.values()].sort((a, b) => (a.newest < b.newest ? 1 : -1));
    const items: HTMLElement[] = [];
    let group = '';
    for (const conversation of sorted) {
      const label = dateGroup(conversation.newest);
      if (label !== group) {
        group = label;
        items.push(h('li', { class: 'group', role: 'presentation' }, label));
      }
      const link = h(
        'a',
        {
          href: `#/c/${encodeURIComponent(conversation.id)}`,
          class: 'conversation',
          'aria-current': conversation.id === state.activeId ? 'page' : undefined,
          title: conversation.title,
        },
        conversation.title.trim() || 'Untitled',
      );
      link.addEventListener('click', (event) => {
        event.preventDefault();
        callbacks.onSelect(conversation.id);
      });
      items.push(h('li', {}, link));
    }
    list.replaceChildren(...items);
    if (done && conversations.size === 0) status.textContent = EMPTY_TEXT;
    else if (status.textContent === EMPTY_TEXT) status.textContent = '';
  }

  scroller.addEventListener('scroll', () => {
    const left = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (left < 200) void loadMore();
  });

  toggle.addEventListener('click', () => {
    toggle.setAttribute('aria-expanded', String(sidebar.classList.toggle('open')));
  });

  return {
    reset() {
      conversations.clear();
      cursor = undefined;
      done = false;
      render();
      void loadMore();
    },
    clear: () => list.replaceChildren(),
    render,
    noteTurn,
    titleOf: (id) => conversations.get(id)?.title,
    close() {
      sidebar.classList.remove('open');
      toggle.setAttribute('aria-expanded', 'false');
    },
  };
}

/** The heading a conversation is listed under, by its newest turn (local time). */
function dateGroup(timestamp: string): string {
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return 'Older';
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const day = 86_400_000;
  if (time >= today.getTime()) return 'Today';
  if (time >= today.getTime() - day) return 'Yesterday';
  if (time >= today.getTime() - 7 * day) return 'Previous 7 days';
  if (time >= today.getTime() - 30 * day) return 'Previous 30 days';
  return 'Older';
}
