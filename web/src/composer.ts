/**
 * The message box and the prompt in flight: draft kept across reloads, Enter to send, Stop while an
 * answer streams, and the rendering of one prompt's SendEvents into its TurnView.
 */
import { byId } from './dom';
import { PromptSender, type Revision, type SendEvent } from './send';
import { type AppState, DRAFT_KEY, type LiveTurn, PENDING_KEY, readStored, store } from './state';
import { TurnView } from './turn-view';

export interface ComposerCallbacks {
  /** Appends the live turn to the open conversation. */
  readonly showTurn: (element: HTMLElement) => void;
  readonly nearBottom: () => boolean;
  readonly scrollToBottom: () => void;
  /** A prompt was withdrawn before it started: the conversation may be empty again. */
  readonly onWithdrawn: () => void;
  /**
   * The server accepted a prompt (its stream's meta event). `onScreen`: its turn is in the open
   * conversation, which becomes this conversation if it was a new chat.
   */
  readonly onAccepted: (conversationId: string, prompt: string, onScreen: boolean) => void;
  /** The live turn settled: the conversation offers its actions again (regenerate moves to it). */
  readonly onSettled: () => void;
}

export interface Composer {
  /** Gives back what was typed (or sent but not yet accepted) before a reload. */
  readonly restoreDraft: () => void;
  readonly submit: (prompt: string, conversationId: string | undefined, revision?: Revision) => void;
  readonly focus: () => void;
  /** Sign-out: a prompt in flight is cancelled and put back into the box. */
  readonly cancelLive: () => void;
  /** Logout: what was typed goes too, so the next user starts clean. */
  readonly forget: () => void;
}

/** Tallest the box grows before it scrolls. */
const MAX_INPUT_PX = 240;

export function createComposer(state: AppState, callbacks: ComposerCallbacks): Composer {
  const form = byId('composer', HTMLFormElement);
  const messageInput = byId('message', HTMLTextAreaElement);
  const sendButton = byId('send', HTMLButtonElement);
  const stopButton = byId('stop', HTMLButtonElement);

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
    update();
  }

  function autosize(): void {
    messageInput.style.height = 'auto';
    messageInput.style.height = `${Math.min(messageInput.scrollHeight, MAX_INPUT_PX)}px`;
  }

  /** Stop replaces Send while a prompt is on its way (not while it waits out a 503: that has its own buttons). */
  function update(): void {
    const { live } = state;
    stopButton.hidden = live === undefined || live.busy;
    sendButton.hidden = !stopButton.hidden;
    sendButton.disabled = live !== undefined || messageInput.value.trim() === '';
  }

  messageInput.addEventListener('input', () => {
    saveDraft();
    autosize();
    update();
  });

  // On touch screens Enter is a new line (as on a phone's keyboard); the Send button sends.
  const touch = matchMedia('(hover: none) and (pointer: coarse)');
  messageInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !touch.matches) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const prompt = messageInput.value.trim();
    if (prompt === '' || state.live) return;
    submit(prompt, state.activeId);
  });

  stopButton.addEventListener('click', () => {
    const { live } = state;
    if (!live) return;
    if (live.messageId === undefined) live.sender.cancel();
    else void live.sender.stop();
    stopButton.disabled = true;
  });

  function submit(prompt: string, conversationId: string | undefined, revision?: Revision): void {
    const client = state.api;
    if (!client || state.live) return;
    const view = new TurnView(prompt, '', revision?.kind ?? 'prompt');
    view.conversationId = conversationId;
    view.setStatus('pending');
    if (conversationId === state.activeId) callbacks.showTurn(view.el);
    const sender = new PromptSender(
      client,
      {
        prompt,
        tier: client.session.tier,
        ...(conversationId ? { conversationId } : {}),
        ...(revision && conversationId ? { revision } : {}),
      },
      (event) => onSendEvent(current, event),
    );
    const current: LiveTurn = {
      sender,
      view,
      prompt,
      revision,
      conversationId,
      messageId: undefined,
      streaming: false,
      busy: false,
    };
    state.live = current;
    // The box is emptied now that the prompt is on screen; PENDING_KEY keeps it until the server has
    // accepted it (meta), so a reload while busy does not lose it.
    store(PENDING_KEY, prompt);
    if (messageInput.value.trim() === prompt) {
      messageInput.value = '';
      saveDraft();
      autosize();
    }
    stopButton.disabled = false;
    update();
    void sender.run();
  }

  function onSendEvent(turn: LiveTurn, event: SendEvent): void {
    const { view } = turn;
    switch (event.type) {
      case 'busy':
        turn.busy = true;
        view.showBusy(
          event.seconds,
          () => turn.sender.retryNow(),
          () => turn.sender.cancel(),
        );
        update();
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
        view.messageId = event.messageId;
        view.conversationId = event.conversationId;
        turn.streaming = true;
        turn.busy = false;
        view.clearNotice();
        view.setStatus('streaming');
        store(PENDING_KEY, '');
        callbacks.onAccepted(event.conversationId, turn.prompt, view.el.isConnected);
        update();
        break;
      case 'content': {
        const stick = callbacks.nearBottom();
        view.append(event.text, () => {
          if (stick && view.el.isConnected) callbacks.scrollToBottom();
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
          if (turn.revision?.kind !== 'regeneration') keepPrompt(turn.prompt);
        }
        break;
      case 'cancelled':
        finish(turn);
        view.el.remove();
        callbacks.onWithdrawn();
        if (turn.revision?.kind !== 'regeneration') keepPrompt(turn.prompt);
        break;
    }
  }

  function finish(turn: LiveTurn): void {
    if (state.live === turn) state.live = undefined;
    if (turn.messageId === undefined) store(PENDING_KEY, '');
    stopButton.disabled = false;
    update();
    queueMicrotask(callbacks.onSettled);
  }

  /** A failed, stopped or interrupted prompt is sent again as a new turn of the same conversation. */
  function retry(turn: LiveTurn): void {
    if (state.live) return;
    if (turn.messageId === undefined) turn.view.el.remove();
    if (messageInput.value.trim() === turn.prompt) {
      messageInput.value = '';
      saveDraft();
    }
    submit(turn.prompt, turn.conversationId, turn.revision);
  }

  return {
    restoreDraft() {
      messageInput.value = readStored(DRAFT_KEY) || readStored(PENDING_KEY);
      store(PENDING_KEY, '');
      store(DRAFT_KEY, messageInput.value);
    },
    submit,
    focus: () => messageInput.focus(),
    cancelLive() {
      const { live } = state;
      if (!live) return;
      keepPrompt(live.prompt);
      live.sender.cancel();
    },
    forget() {
      messageInput.value = '';
      saveDraft();
      store(PENDING_KEY, '');
    },
  };
}
