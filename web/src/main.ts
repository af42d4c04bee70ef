/**
 * The web client's entry: creates the page's parts and wires them through callbacks, plus the URL
 * routing between them (`#/c/<conversation id>`; no hash is a new chat).
 */
import { createComposer } from './composer';
import { createConversationView } from './conversation';
import { byId } from './dom';
import { createSession } from './session';
import { createSidebar } from './sidebar';
import { createAppState } from './state';

const state = createAppState();

// The parts return plain closures (no `this`), so their functions are passed around as they are.

const sidebar = createSidebar(state, { onSelect: (id) => navigate(id) });

const conversation = createConversationView(state, {
  noteTurn: sidebar.noteTurn,
  renderSidebar: sidebar.render,
  titleOf: sidebar.titleOf,
  onRetry: (prompt, conversationId) => composer.submit(prompt, conversationId),
});

const composer = createComposer(state, {
  showTurn: conversation.showTurn,
  nearBottom: conversation.nearBottom,
  scrollToBottom: conversation.scrollToBottom,
  onWithdrawn: conversation.showEmptyIfBlank,
  onAccepted(conversationId, prompt, onScreen) {
    sidebar.noteTurn(conversationId, prompt, new Date().toISOString());
    // A new chat becomes this conversation: its URL and title, without a history entry of its own.
    if (state.activeId === undefined && onScreen) {
      state.activeId = conversationId;
      history.replaceState(null, '', conversationUrl(conversationId));
      conversation.setTitle(prompt);
    }
    sidebar.render();
  },
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
  sidebar.close();
  void conversation.open(id);
}

window.addEventListener('popstate', () => {
  if (state.api) void conversation.open(conversationFromUrl());
});

byId('new-chat', HTMLButtonElement).addEventListener('click', () => {
  navigate(undefined);
  composer.focus();
});

composer.restoreDraft();
void session.boot();
