import { OVERLOADED_MESSAGE, TURN_ERROR_FALLBACK_MESSAGE, TURN_ERROR_MESSAGES } from '../../contract/errors';
import type { TurnStatus } from '../../contract/turn';
import { button, h } from './dom';
import { renderMarkdown } from './markdown';

export type ViewStatus = TurnStatus | 'pending' | 'streaming';

const STATUS_TEXT: Partial<Record<ViewStatus, string>> = {
  failed: 'Failed',
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  in_progress: 'Still generating…',
};

export function describeErrorCode(code: string | undefined): string | undefined {
  return code === undefined ? undefined : (TURN_ERROR_MESSAGES[code] ?? TURN_ERROR_FALLBACK_MESSAGE);
}

/** One prompt and its answer in the conversation column. */
export class TurnView {
  readonly el: HTMLElement;
  private readonly answerEl: HTMLDivElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly footerEl: HTMLDivElement;
  private text = '';
  private frame = 0;

  constructor(prompt: string, answer = '') {
    this.answerEl = h('div', { class: 'answer markdown' });
    this.noticeEl = h('div', { class: 'notice-slot' });
    this.footerEl = h('div', { class: 'turn-footer' });
    this.el = h(
      'article',
      { class: 'turn' },
      h('div', { class: 'user-row' }, h('div', { class: 'user-bubble' }, prompt)),
      h(
        'div',
        { class: 'assistant-row' },
        h('div', { class: 'avatar', 'aria-hidden': 'true' }),
        h('div', { class: 'assistant' }, this.answerEl, this.noticeEl, this.footerEl),
      ),
    );
    this.setAnswer(answer);
  }

  get answer(): string {
    return this.text;
  }

  setAnswer(text: string): void {
    this.text = text;
    this.render();
  }

  /** Appends a streamed chunk; renders at most once per frame. */
  append(text: string, onRendered: () => void): void {
    this.text += text;
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.render();
      onRendered();
    });
  }

  private render(): void {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.answerEl.innerHTML = renderMarkdown(this.text);
  }

  /** The turn's state, and for failed, stopped and interrupted turns a note and a Retry button. */
  setStatus(status: ViewStatus, detail?: string, onRetry?: () => void): void {
    this.render();
    this.el.dataset.status = status;
    const label = STATUS_TEXT[status];
    this.footerEl.replaceChildren();
    if (label === undefined) return;
    this.footerEl.append(
      h('span', { class: `status-label status-${status}` }, label),
      detail ? h('span', { class: 'status-detail' }, detail) : '',
      onRetry ? button('Retry', onRetry, 'link') : '',
    );
  }

  showBusy(seconds: number, onRetryNow: () => void, onCancel: () => void): void {
    this.noticeEl.replaceChildren(
      h(
        'div',
        { class: 'notice busy' },
        h('p', { class: 'notice-title', role: 'status' }, OVERLOADED_MESSAGE),
        h(
          'p',
          { class: 'notice-detail' },
          'Retrying automatically in ',
          h('span', { class: 'countdown', 'aria-live': 'off' }, String(seconds)),
          ' s',
        ),
        h(
          'div',
          { class: 'notice-actions' },
          button('Retry now', onRetryNow, 'primary small'),
          button('Cancel', onCancel, 'ghost small'),
        ),
      ),
    );
  }

  tick(seconds: number): void {
    const countdown = this.noticeEl.querySelector('.countdown');
    if (countdown) countdown.textContent = String(seconds);
  }

  showRetrying(): void {
    const detail = this.noticeEl.querySelector('.notice-detail');
    if (detail) detail.textContent = 'Retrying…';
    for (const action of this.noticeEl.querySelectorAll('button')) action.disabled = true;
  }

  showError(message: string, onRetry?: () => void): void {
    this.noticeEl.replaceChildren(
      h(
        'div',
        { class: 'notice error', role: 'alert' },
        h('p', { class: 'notice-title' }, message),
        onRetry ? h('div', { class: 'notice-actions' }, button('Retry', onRetry, 'primary small')) : '',
      ),
    );
  }

  clearNotice(): void {
    this.noticeEl.replaceChildren();
  }
}
