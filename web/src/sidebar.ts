/**
 * The conversation list, from GET /chat/conversations (titles, newest activity first, paged in as it
 * scrolls), grouped by date, each with its relative time (two conversations with the same first prompt
 * still differ), Rename (PATCH) and Delete (with a confirmation), and a search by title. On phones it is
 * a drawer (drawer.ts).
 */
import type { ConversationEntry } from '../../contract/http-api';
import { MAX_CONVERSATION_TITLE_CHARS } from '../../contract/http-api';
import { confirmAction } from './dialog';
import { byId, h } from './dom';
import { dateGroup, relativeTime, titleFromPrompt } from './format';
import type { AppState } from './state';

export interface SidebarCallbacks {
  /** A conversation was picked in the list. */
  readonly onSelect: (id: string) => void;
  /** A conversation was renamed (its new title) or deleted (undefined). */
  readonly onChanged: (id: string, title: string | undefined) => void;
}

export interface Sidebar {
  /** A fresh list for a new session: forgets the old one and loads the first page. */
  readonly reset: () => void;
  /** Empties the list on screen (sign-out). */
  readonly clear: () => void;
  readonly render: () => void;
  /** Records a turn seen anywhere (a new prompt, history): creates or moves up its conversation. */
  readonly noteTurn: (conversationId: string, prompt: string, timestamp: string) => void;
  readonly titleOf: (conversationId: string) => string | undefined;
}

const SIDEBAR_PAGE = 50;
/** A search reads at most this many pages to find older titles. */
const SEARCH_PAGES = 20;
const EMPTY_TEXT = 'No conversations yet.';

interface Summary {
  readonly id: string;
  title: string;
  readonly createdAt: string;
  updatedAt: string;
}

export function createSidebar(state: AppState, callbacks: SidebarCallbacks): Sidebar {
  const list = byId('conversation-list', HTMLElement);
  const scroller = byId('conversations', HTMLElement);
  const status = byId('conversations-status', HTMLElement);
  const search = byId('search', HTMLInputElement);

  const conversations = new Map<string, Summary>();
  let cursor: string | undefined;
  let done = false;
  /** The session whose next page is being fetched, if any. */
  let loading: AppState['api'];
  /** The conversation whose title is being edited in place. */
  let renaming: string | undefined;

  async function loadMore(): Promise<void> {
    const client = state.api;
    if (!client || loading === client || done) return;
    loading = client;
    status.textContent = 'Loading…';
    try {
      const page = await client.conversations({ limit: SIDEBAR_PAGE, ...(cursor ? { cursor } : {}) });
      if (client !== state.api) return;
      for (const entry of page.conversations) upsert(entry);
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

  function upsert(entry: ConversationEntry): void {
    const known = conversations.get(entry.id);
    // A page never moves a conversation back: this tab may have seen a newer turn.
    if (known && known.updatedAt > entry.updated_at) {
      known.title = entry.title || known.title;
      return;
    }
    conversations.set(entry.id, {
      id: entry.id,
      title: entry.title,
      createdAt: entry.created_at,
      updatedAt: entry.updated_at,
    });
  }

  function noteTurn(conversationId: string, prompt: string, timestamp: string): void {
    const known = conversations.get(conversationId);
    if (!known) {
      conversations.set(conversationId, {
        id: conversationId,
        title: titleFromPrompt(prompt),
        createdAt: timestamp,
        updatedAt: timestamp,
      });
    } else if (timestamp > known.updatedAt) {
      known.updatedAt = timestamp;
    }
  }

  function matches(summary: Summary, query: string): boolean {
    return query === '' || summary.title.toLowerCase().includes(query);
  }

  function render(): void {
    const query = search.value.trim().toLowerCase();
    const sorted = [...conversations.values()]
      .filter((summary) => matches(summary, query))
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
    const ordinals = duplicateOrdinals([...conversations.values()]);
    const groups: HTMLElement[] = [];
    let items: HTMLElement[] = [];
    let group = '';
    const flush = () => {
      if (items.length === 0) return;
      const id = `group-${groups.length}`;
      groups.push(
        h(
          'section',
          { class: 'group', 'aria-labelledby': id },
          h('h2', { id, class: 'group-label' }, group),
          h('ul', {}, ...items),
        ),
      );
      items = [];
    };
    for (const summary of sorted) {
      const label = dateGroup(summary.updatedAt);
      if (label !== group) {
        flush();
        group = label;
      }
      items.push(item(summary, ordinals.get(summary.id)));
    }
    flush();
    // The list is rebuilt: the focus stays on the same control of the same conversation.
    const focused = document.activeElement;
    const focusKey =
      focused instanceof HTMLElement && list.contains(focused) ? focused.dataset.focusKey : undefined;
    list.replaceChildren(...groups);
    if (focusKey) list.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
    if (query !== '' && sorted.length === 0) status.textContent = done ? 'No chats match.' : 'Searching…';
    else if (done && conversations.size === 0) status.textContent = EMPTY_TEXT;
    else if (status.textContent !== 'Loading…') status.textContent = '';
  }

  /** `ordinal`: the 2nd, 3rd… conversation of the same title (by creation) says so, as "(2)". */
  function item(summary: Summary, ordinal: number | undefined): HTMLElement {
    const title = summary.title.trim() || 'Untitled';
    if (renaming === summary.id) return renameItem(summary, title);
    const when = relativeTime(summary.updatedAt);
    const link = h(
      'a',
      {
        href: `#/c/${encodeURIComponent(summary.id)}`,
        class: 'conversation',
        'aria-current': summary.id === state.activeId ? 'page' : undefined,
        title: `${title} · ${new Date(summary.updatedAt).toLocaleString()}`,
        'data-focus-key': `open:${summary.id}`,
      },
      h('span', { class: 'conversation-title' }, title),
      ordinal === undefined ? '' : h('span', { class: 'conversation-dup' }, `(${ordinal})`),
      h('span', { class: 'conversation-time' }, when),
    );
    link.addEventListener('click', (event) => {
      event.preventDefault();
      callbacks.onSelect(summary.id);
    });
    const rename = iconButton(summary.id, 'Rename', title, 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4', () => {
      renaming = summary.id;
      render();
    });
    const remove = iconButton(
      summary.id,
      'Delete',
      title,
      'M5 7h14M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3',
      () => {
        void deleteConversation(summary, title);
      },
    );
    return h('li', { class: 'conversation-item' }, link, h('div', { class: 'item-actions' }, rename, remove));
  }

  function iconButton(
    id: string,
    verb: 'Rename' | 'Delete',
    title: string,
    path: string,
    onClick: () => void,
  ): HTMLButtonElement {
    const element = h(
      'button',
      {
        type: 'button',
        class: 'item-action',
        'aria-label': `${verb} “${title}”`,
        title: verb,
        'data-focus-key': `${verb}:${id}`,
      },
      svgIcon(path),
    );
    element.addEventListener('click', onClick);
    return element;
  }

  function renameItem(summary: Summary, title: string): HTMLElement {
    const input = h('input', {
      class: 'rename-input',
      'aria-label': 'New title',
      maxlength: String(MAX_CONVERSATION_TITLE_CHARS),
      value: title,
    });
    let settled = false;
    const finish = (save: boolean) => {
      if (settled) return;
      settled = true;
      renaming = undefined;
      const next = input.value.replace(/\s+/g, ' ').trim();
      if (save && next !== '' && next !== summary.title) void renameConversation(summary, next);
      else render();
      focusItem(summary.id, 'Rename');
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        finish(true);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener('blur', () => finish(true));
    queueMicrotask(() => {
      input.focus();
      input.select();
    });
    return h('li', { class: 'conversation-item renaming' }, input);
  }

  function focusItem(id: string, verb: 'Rename' | 'Delete'): void {
    requestAnimationFrame(() => {
      list.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(`${verb}:${id}`)}"]`)?.focus();
    });
  }

  async function renameConversation(summary: Summary, title: string): Promise<void> {
    const client = state.api;
    if (!client) return;
    const before = summary.title;
    summary.title = title;
    render();
    try {
      const saved = await client.rename(summary.id, title);
      summary.title = saved.title;
      callbacks.onChanged(summary.id, saved.title);
    } catch {
      summary.title = before;
      status.textContent = "Couldn't rename the conversation.";
    }
    render();
  }

  async function deleteConversation(summary: Summary, title: string): Promise<void> {
    const client = state.api;
    if (!client) return;
    const confirmed = await confirmAction(
      'Delete chat?',
      `“${title}” and all its messages will be deleted. This can't be undone.`,
      'Delete',
    );
    if (!confirmed || client !== state.api) return;
    try {
      await client.deleteConversation(summary.id);
      conversations.delete(summary.id);
      callbacks.onChanged(summary.id, undefined);
    } catch {
      status.textContent = "Couldn't delete the conversation.";
    }
    render();
  }

  scroller.addEventListener('scroll', () => {
    const left = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight;
    if (left < 200) void loadMore();
  });

  /** Searching reads further pages (up to SEARCH_PAGES) so older titles are found too. */
  let searchPages = 0;
  search.addEventListener('input', () => {
    render();
    searchPages = 0;
    void searchFurther();
  });

  async function searchFurther(): Promise<void> {
    while (search.value.trim() !== '' && !done && searchPages < SEARCH_PAGES && state.api) {
      searchPages++;
      await loadMore();
      if (loading) return;
    }
    render();
  }

  return {
    reset() {
      conversations.clear();
      cursor = undefined;
      done = false;
      search.value = '';
      render();
      void loadMore();
    },
    clear: () => {
      conversations.clear();
      list.replaceChildren();
    },
    render,
    noteTurn,
    titleOf: (id) => conversations.get(id)?.title,
  };
}

function svgIcon(path: string): SVGSVGElement {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const shape = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  shape.setAttribute('d', path);
  svg.append(shape);
  return svg;
}

/** For titles shared by several conversations: each one's place among them by creation, from 2 on. */
function duplicateOrdinals(all: readonly Summary[]): Map<string, number> {
  const byTitle = new Map<string, Summary[]>();
  for (const summary of all) {
    const key = summary.title.trim().toLowerCase();
    byTitle.set(key, [...(byTitle.get(key) ?? []), summary]);
  }
  const ordinals = new Map<string, number>();
  for (const same of byTitle.values()) {
    if (same.length < 2) continue;
    same.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    same.forEach((summary, index) => {
      if (index > 0) ordinals.set(summary.id, index + 1);
    });
  }
  return ordinals;
}
