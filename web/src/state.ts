/**
 * What more than one part of the page reads: the signed-in API, the open conversation and the prompt
 * in flight. Each part keeps the rest of its state to itself; they change this object, and tell each
 * other through the callbacks main.ts wires, never by importing one another.
 */
import type { Api } from './api';
import type { PromptSender, Revision } from './send';
import type { TurnView } from './turn-view';

/** The prompt on its way: at most one at a time. */
export interface LiveTurn {
  readonly sender: PromptSender;
  readonly view: TurnView;
  readonly prompt: string;
  readonly revision: Revision | undefined;
  conversationId: string | undefined;
  messageId: string | undefined;
  streaming: boolean;
  /** Waiting out a 503's Retry-After. */
  busy: boolean;
}

export interface AppState {
  /** Undefined while signed out: a module holding an older one drops what it fetched with it. */
  api: Api | undefined;
  /** The conversation on screen; undefined for a new chat. */
  activeId: string | undefined;
  live: LiveTurn | undefined;
}

export function createAppState(): AppState {
  return { api: undefined, activeId: undefined, live: undefined };
}

/** Session storage keys: what was typed survives a reload of the tab, not the tab itself. */
export const DRAFT_KEY = 'chat.draft';
/** The prompt in flight until the server accepts it, so a reload while busy gives it back. */
export const PENDING_KEY = 'chat.pending';

export function readStored(key: string): string {
  try {
    return sessionStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

export function store(key: string, value: string): void {
  try {
    if (value === '') sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, value);
  } catch {
    // Storage disabled: the text lives in the page only.
  }
}
