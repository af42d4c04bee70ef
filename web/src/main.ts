import type { HistoryEntry } from '../../contract/http-api';
import type { PublicConfig } from '../../contract/public-config';
import { Api } from './api';
import { AuthError, loadConfig, logIn, restoreSession, type Session, saveSession } from './auth';
import { byId, h } from './dom';
import { PromptSender, type SendEvent } from './send';
import { describeErrorCode, TurnView } from './turn-view';

/** One sidebar entry, built from history turns. */
interface Conversation {
  readonly id: string;
  title: string;
  /** Timestamp of the oldest turn seen, whose prompt is the title. */
  oldest: string;
  newest: string;
}

/** The prompt on its way: at most one at a time. */
interface Live {
  readonly sender: PromptSender;
  readonly view: TurnView;
  readonly prompt: string;
  conversationId: string | undefined;
  messageId: string | undefined;
  streaming: boolean;
  /** Waiting out a 503's Retry-After. */
  busy: boolean;
}

const SIDEBAR_PAGE = 50;
const CONVERSATION_PAGE = 50;
const POLL_MS = 2_000;
const DRAFT_KEY = 'chat.draft';
/** The prompt in flight until the server accepts it, so a reload while busy gives it back. */
const PENDING_KEY = 'chat.pending';

const loginView = byId('login-view', HTMLElement);
const loginForm = byId('login-form', HTMLFormElement);
const emailInput = byId('email', HTMLInputElement);
const passwordInput = byId('password', HTMLInputElement);
const loginButton = byId('login-button', HTMLButtonElement);
const loginError = byId('login-error', HTMLElement);
const appView = byId('app-view', HTMLElement);
const sidebar = byId('sidebar', HTMLElement);
const sidebarToggle = byId('toggle-sidebar', HTMLButtonElement);
const conversationList = byId('conversation-list', HTMLElement);
const conversationScroll = byId('conversations', HTMLElement);
const conversationStatus = byId('conversations-status', HTMLElement);
const accountEmail = byId('account-email', HTMLElement);
const tierBadge = byId('tier-badge', HTMLElement);
const titleEl = byId('conversation-title', HTMLElement);
const thread = byId('thread', HTMLElement);
const turnsEl = byId('turns', HTMLElement);
const emptyEl = byId('empty', HTMLElement);
const earlierButton = byId('load-earlier', HTMLButtonElement);
const composer = byId('composer', HTMLFormElement);
const messageInput = byId('message', HTMLTextAreaElement);
const sendButton = byId('send', HTMLButtonElement);
const stopButton = byId('stop', HTMLButtonElement);

let config: PublicConfig | undefined;
let api: Api | undefined;
let active: string | undefined;
let openSeq = 0;
let earlierCursor: string | undefined;
let pollTimer: ReturnType<typeof setTimeout> | undefined;
let pollsLeft = 0;
let live: Live | undefined;
const conversations = new Map<string, Conversation>();
let sidebarCursor: string | undefined;
let sidebarDone = false;
/** The session whose next page is being fetched, if any. */
let sidebarLoading: Api | undefined;

// ---------- session ----------

async function boot(): Promise<void> {
  messageInput.value = readStored(DRAFT_KEY) || readStored(PENDING_KEY);
  store(PENDING_KEY, '');
  store(DRAFT_KEY, messageInput.value);
  try {
    config = await loadConfig();
  } catch {
    showLogin("Couldn't load the app settings. Reload the page to try again.");
    return;
  }
  const session = restoreSession();
  if (session) startApp(session);
  else showLogin();
}

function showLogin(message = ''): void {
  appView.hidden = true;
  loginView.hidden = false;
  loginError.textContent = message;
  loginButton.disabled = false;
  loginButton.textContent = 'Log in';
  emailInput.focus();
}

loginForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!config) return;
  loginButton.disabled = true;
  loginButton.textContent = 'Logging in…';
  loginError.textContent = '';
  logIn(config, emailInput.value.trim(), passwordInput.value)
    .then((session) => {
      passwordInput.value = '';
      saveSession(session);
      startApp(session);
    })
    .catch((error: unknown) => {
      showLogin(
        error instanceof AuthError
          ? error.message
          : "Couldn't reach the sign-in service. Check your connection and try again.",
      );
    });
});

function startApp(session: Session): void {
  if (!config) return;
  api = new Api(config, session, (reason) => endSession(reason));
  loginView.hidden = true;
  appView.hidden = false;
  accountEmail.textContent = session.email;
  tierBadge.textContent = session.tier === 'premium' ? 'Premium' : 'Free';
  tierBadge.dataset.tier = session.tier;
  conversations.clear();
  sidebarCursor = undefined;
  sidebarDone = false;
  renderSidebar();
  void loadMoreConversations();
  void openConversation(conversationFromUrl());
  messageInput.focus();
}

function endSession(reason: string): void {
  api?.dispose();
  api = undefined;
  if (live) {
    keepPrompt(live.prompt);
    live.sender.cancel();
  }
  clearTimeout(pollTimer);
  saveSession(undefined);
  turnsEl.replaceChildren();
  conversationList.replaceChildren();
  showLogin(reason);
}

/** Logging out also forgets what was typed and which conversation was open: the next user starts clean. */
byId('logout', HTMLButtonElement).addEventListener('click', () => {
  endSession('');
  messageInput.value = '';
  saveDraft();
  store(PENDING_KEY, '');
  history.replaceState(null, '', location.pathname + location.search);
});

// ---------- sidebar ----------

async function loadMoreConversations(): Promise<void> {
  const client = api;
  if (!client || sidebarLoading === client || sidebarDone) return;
  sidebarLoading = client;
  conversationStatus.textContent = 'Loading…';
  try {
    const page = await client.history({
      limit: SIDEBAR_PAGE,
      ...(sidebarCursor ? { cursor: sidebarCursor } : {}),
    });
    if (client !== api) return;
    for (const entry of page.chats) noteTurn(entry.conversation_id, entry.user_message, entry.timestamp);
    sidebarCursor = page.next_cursor;
    sidebarDone = page.next_cursor === undefined;
    conversationStatus.textContent = '';
    renderSidebar();
  } catch {
    // No automatic retry (it would spin while the API is down): the next scroll tries again.
    if (client === api) conversationStatus.textContent = "Couldn't load conversations.";
    return;
  } finally {
    if (sidebarLoading === client) sidebarLoading = undefined;
  }
  if (client !== api) return;
  // Keep paging while the list does not fill the sidebar (the scroll handler needs something to scroll).
  if (!sidebarDone && conversationScroll.scrollHeight <= conversationScroll.clientHeight + 40) {
    void loadMoreConversations();
  }
}

conversationScroll.addEventListener('scroll', () => {
  const left =
    conversationScroll.scrollHeight - conversationScroll.scrollTop - conversationScroll.clientHeight;
  if (left < 200) void loadMoreConversations();
});

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

function renderSidebar(): void {
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
        'aria-current': conversation.id === active ? 'page' : undefined,
        title: conversation.title,
      },
      conversation.title.trim() || 'Untitled',
    );
    link.addEventListener('click', (event) => {
      event.preventDefault();
      navigate(conversation.id);
    });
    items.push(h('li', {}, link));
  }
  conversationList.replaceChildren(...items);
  if (sidebarDone && conversations.size === 0) conversationStatus.textContent = 'No conversations yet.';
  else if (conversationStatus.textContent === 'No conversations yet.') conversationStatus.textContent = '';
}

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

// ---------- conversation ----------

function conversationFromUrl(): string | undefined {
  const match = /^#\/c\/(.+)$/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

function navigate(id: string | undefined): void {
  const target = id === undefined ? location.pathname + location.search : `#/c/${encodeURIComponent(id)}`;
  history.pushState(null, '', target);
  sidebar.classList.remove('open');
  sidebarToggle.setAttribute('aria-expanded', 'false');
  void openConversation(id);
}

window.addEventListener('popstate', () => {
  if (api) void openConversation(conversationFromUrl());
});

byId('new-chat', HTMLButtonElement).addEventListener('click', () => {
  navigate(undefined);
  messageInput.focus();
});

sidebarToggle.addEventListener('click', () => {
  sidebarToggle.setAttribute('aria-expanded', String(sidebar.classList.toggle('open')));
});

async function openConversation(id: string | undefined): Promise<void> {
  const client = api;
  if (!client) return;
  const seq = ++openSeq;
  active = id;
  clearTimeout(pollTimer);
  pollsLeft = 30;
  earlierCursor = undefined;
  earlierButton.hidden = true;
  turnsEl.replaceChildren();
  renderSidebar();
  titleEl.textContent = id === undefined ? 'New chat' : (conversations.get(id)?.title ?? '');
  emptyEl.hidden = id !== undefined;
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
    for (const entry of page.chats) noteTurn(id, entry.user_message, entry.timestamp);
    renderSidebar();
    titleEl.textContent = conversations.get(id)?.title ?? oldest?.user_message ?? '';
    if (page.chats.length === 0 && !(live && live.conversationId === id)) emptyEl.hidden = false;
    scrollToBottom();
    if (page.chats.some((entry) => entry.status === 'in_progress' && entry.id !== live?.messageId)) {
      schedulePoll(id);
    }
  } catch {
    if (seq !== openSeq) return;
    turnsEl.replaceChildren(
      h('p', { class: 'load-error', role: 'alert' }, "Couldn't load this conversation."),
    );
  } finally {
    if (seq === openSeq) thread.removeAttribute('aria-busy');
  }
}

/** Renders history entries (newest first, as the API pages them) oldest → newest. */
function renderTurns(entries: readonly HistoryEntry[], mode: 'replace' | 'prepend'): void {
  const views = [...entries]
    .reverse()
    .filter((entry) => entry.id !== live?.messageId)
    .map((entry) => historyTurn(entry).el);
  if (mode === 'prepend') {
    turnsEl.prepend(...views);
    return;
  }
  turnsEl.replaceChildren(...views);
  if (live && live.conversationId === active) turnsEl.append(live.view.el);
}

function historyTurn(entry: HistoryEntry): TurnView {
  const view = new TurnView(entry.user_message, entry.assistant_response);
  const retry = () => submit(entry.user_message, entry.conversation_id);
  if (entry.status === 'failed') view.setStatus('failed', describeErrorCode(entry.error_code), retry);
  else if (entry.status === 'stopped' || entry.status === 'interrupted')
    view.setStatus(entry.status, '', retry);
  else view.setStatus(entry.status);
  return view;
}

earlierButton.addEventListener('click', () => {
  const client = api;
  const id = active;
  const cursor = earlierCursor;
  if (!client || id === undefined || cursor === undefined) return;
  earlierButton.disabled = true;
  const seq = openSeq;
  client
    .history({ conversationId: id, limit: CONVERSATION_PAGE, cursor })
    .then((page) => {
      if (seq !== openSeq) return;
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
    const client = api;
    if (!client || active !== id) return;
    const seq = openSeq;
    client
      .history({ conversationId: id, limit: CONVERSATION_PAGE })
      .then((page) => {
        if (seq !== openSeq) return;
        const atBottom = nearBottom();
        renderTurns(page.chats, 'replace');
        if (atBottom) scrollToBottom();
        if (page.chats.some((entry) => entry.status === 'in_progress' && entry.id !== live?.messageId)) {
          schedulePoll(id);
        }
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

// ---------- composer ----------

function readStored(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function store(key: string, value: string): void {
  try {
    if (value === '') sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage disabled: the text lives in the page only.
  }
}

function saveDraft(): void {
  store(DRAFT_KEY, messageInput.value);
}

/** Puts a prompt that did not go through back into the box, unless the user already typed something else. */
function keepPrompt(prompt: string): void {
  if (messageInput.value.trim() === '') {
    messageInput.value = prompt;
    saveDraft();
    autosize();
  }
  updateComposer();
}

function autosize(): void {
  messageInput.style.height = 'auto';
  messageInput.style.height = `${Math.min(messageInput.scrollHeight, 240)}px`;
}

/** Stop replaces Send while a prompt is on its way (not while it waits out a 503: that has its own buttons). */
function updateComposer(): void {
  stopButton.hidden = live === undefined || live.busy;
  sendButton.hidden = !stopButton.hidden;
  sendButton.disabled = live !== undefined || messageInput.value.trim() === '';
}

messageInput.addEventListener('input', () => {
  saveDraft();
  autosize();
  updateComposer();
});

messageInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    composer.requestSubmit();
  }
});

composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const prompt = messageInput.value.trim();
  if (prompt === '' || live) return;
  submit(prompt, active);
});

stopButton.addEventListener('click', () => {
  if (!live) return;
  if (live.messageId === undefined) live.sender.cancel();
  else void live.sender.stop();
  stopButton.disabled = true;
});

function submit(prompt: string, conversationId: string | undefined): void {
  const client = api;
  if (!client || live) return;
  const view = new TurnView(prompt);
  view.setStatus('pending');
  if (conversationId === active) showTurn(view.el);
  const sender = new PromptSender(
    client,
    { prompt, tier: client.session.tier, ...(conversationId ? { conversationId } : {}) },
    (event) => onSendEvent(current, event),
  );
  const current: Live = {
    sender,
    view,
    prompt,
    conversationId,
    messageId: undefined,
    streaming: false,
    busy: false,
  };
  live = current;
  // The box is emptied now that the prompt is on screen; PENDING_KEY keeps it until the server has
  // accepted it (meta), so a reload while busy does not lose it.
  store(PENDING_KEY, prompt);
  if (messageInput.value.trim() === prompt) {
    messageInput.value = '';
    saveDraft();
    autosize();
  }
  stopButton.disabled = false;
  updateComposer();
  void sender.run();
}

function onSendEvent(turn: Live, event: SendEvent): void {
  const { view } = turn;
  switch (event.type) {
    case 'busy':
      turn.busy = true;
      view.showBusy(
        event.seconds,
        () => turn.sender.retryNow(),
        () => turn.sender.cancel(),
      );
      updateComposer();
      break;
    case 'tick':
      view.tick(event.seconds);
      break;
    case 'retrying':
      view.showRetrying();
      break;
    case 'meta':
      turn.messageId = event.messageId;
      turn.conversationId = event.conversationId;
      turn.streaming = true;
      turn.busy = false;
      view.clearNotice();
      view.setStatus('streaming');
      store(PENDING_KEY, '');
      noteTurn(event.conversationId, turn.prompt, new Date().toISOString());
      if (active === undefined && view.el.isConnected) {
        active = event.conversationId;
        history.replaceState(null, '', `#/c/${encodeURIComponent(event.conversationId)}`);
        titleEl.textContent = turn.prompt;
      }
      renderSidebar();
      updateComposer();
      break;
    case 'content': {
      const stick = nearBottom();
      view.append(event.text, () => {
        if (stick && view.el.isConnected) scrollToBottom();
      });
      break;
    }
    case 'end':
      finish(turn);
      if (event.status === 'completed') view.setStatus('completed');
      else view.setStatus(event.status, undefined, () => retry(turn));
      break;
    case 'failed':
      if (event.started) {
        view.showError(event.message);
      } else {
        finish(turn);
        view.setStatus('failed');
        view.showError(event.message, event.kind === 'auth' ? undefined : () => retry(turn));
        keepPrompt(turn.prompt);
      }
      break;
    case 'cancelled':
      finish(turn);
      view.el.remove();
      if (turnsEl.childElementCount === 0 && active === undefined) emptyEl.hidden = false;
      keepPrompt(turn.prompt);
      break;
  }
}

function finish(turn: Live): void {
  if (live === turn) live = undefined;
  if (turn.messageId === undefined) store(PENDING_KEY, '');
  stopButton.disabled = false;
  updateComposer();
}

/** A failed, stopped or interrupted prompt is sent again as a new turn of the same conversation. */
function retry(turn: Live): void {
  if (live) return;
  if (turn.messageId === undefined) turn.view.el.remove();
  if (messageInput.value.trim() === turn.prompt) {
    messageInput.value = '';
    saveDraft();
  }
  submit(turn.prompt, turn.conversationId);
}

void boot();
