/**
 * The web client's entry: creates the page's parts and wires them through callbacks, plus the URL
 * routing between them (`#/c/<conversation id>`; no hash is a new chat) and the keyboard shortcuts.
 */
import { createComposer } from './composer';
import { createConversationView } from './conversation';
import { byId } from './dom';
import { createDrawer } from './drawer';
import { createSession } from './session';
import { openSettings } from './settings';
import { createSidebar } from './sidebar';
import { createAppState } from './state';
import { trackViewport } from './viewport';

const state = createAppState();
const drawer = createDrawer();

// The parts return plain closures (no `this`), so their functions are passed around as they are.

const sidebar = createSidebar(state, {
  onSelect: (id) => navigate(id),
  onChanged(id, title) {
    if (id !== state.activeId) return;
    if (title === undefined) navigate(undefined);
    else conversation.setTitle(title);
  },
});

const conversation = createConversationView(state, {
  noteTurn: sidebar.noteTurn,
  renderSidebar: sidebar.render,
  titleOf: sidebar.titleOf,
  onResend: (prompt, conversationId, revision) => composer.submit(prompt, conversationId, revision),
});

const composer = createComposer(state, {
  showTurn: (element) => {
    conversation.showTurn(element);
    conversation.refreshActions();
  },
  nearBottom: conversation.nearBottom,
  scrollToBottom: conversation.scrollToBottom,
  onWithdrawn: conversation.showEmptyIfBlank,
  onAccepted(conversationId, prompt, onScreen) {
    sidebar.noteTurn(conversationId, prompt, new Date().toISOString());
    // A new chat becomes this conversation: its URL and title, without a history entry of its own.
    if (state.activeId === undefined && onScreen) {
      state.activeId = conversationId;
      history.replaceState(null, '', conversationUrl(conversationId));
      conversation.setTitle(sidebar.titleOf(conversationId) ?? prompt);
    }
    sidebar.render();
    conversation.refreshActions();
  },
  onSettled: conversation.refreshActions,
});

const session = createSession(state, {
  onStart() {
    sidebar.reset();
    void conversation.open(conversationFromUrl());
    composer.focus();
  },
  onEnd() {
    composer.cancelLive();
    conversation.clear();
    sidebar.clear();
    drawer.close();
  },
  /** Logging out also forgets which conversation was open: the next user starts clean. */
  onLogout() {
    composer.forget();
    history.replaceState(null, '', location.pathname + location.search);
  },
});

function conversationUrl(id: string): string {
  return `#/c/${encodeURIComponent(id)}`;
}

function conversationFromUrl(): string | undefined {
  const match = /^#\/c\/(.+)$/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

function navigate(id: string | undefined): void {
  history.pushState(null, '', id === undefined ? location.pathname + location.search : conversationUrl(id));
  drawer.close();
  void conversation.open(id);
}

function newChat(): void {
  navigate(undefined);
  composer.focus();
}

window.addEventListener('popstate', () => {
  if (state.api) void conversation.open(conversationFromUrl());
});

byId('new-chat', HTMLButtonElement).addEventListener('click', newChat);

byId('open-settings', HTMLButtonElement).addEventListener('click', () => {
  drawer.close();
  void openSettings(state, {
    onErased() {
      sidebar.reset();
      navigate(undefined);
    },
  });
});

// Shortcuts (as ChatGPT's): Ctrl/⌘ + Shift + O a new chat, Shift + Esc the message box.
document.addEventListener('keydown', (event) => {
  if (!state.api || document.querySelector('dialog[open]')) return;
  if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === 'o') {
    event.preventDefault();
    newChat();
  } else if (event.shiftKey && event.key === 'Escape') {
    event.preventDefault();
    drawer.close();
    composer.focus();
  }
});

trackViewport();
composer.restoreDraft();
void session.boot();
