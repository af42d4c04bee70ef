import { OVERLOADED_MESSAGE, TURN_ERROR_FALLBACK_MESSAGE, TURN_ERROR_MESSAGES } from '../../contract/errors';
import type { TurnStatus } from '../../contract/turn';
import { copyText, flashCopied } from './clipboard';
import { enhanceAnswer, handleCodeCopy } from './code-blocks';
import { button, h } from './dom';
import { renderMarkdown } from './markdown';

export type ViewStatus = TurnStatus | 'pending' | 'streaming';

const STATUS_TEXT: Partial<Record<ViewStatus, string>> = {
  failed: 'Failed',
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  in_progress: 'Still generating…',
};

/** Statuses after which a turn's actions (copy, regenerate, edit) are offered. */
const SETTLED = new Set<ViewStatus>(['completed', 'failed', 'stopped', 'interrupted']);

export function describeErrorCode(code: string | undefined): string | undefined {
  return code === undefined ? undefined : (TURN_ERROR_MESSAGES[code] ?? TURN_ERROR_FALLBACK_MESSAGE);
}

/** How a turn came to be: a plain prompt, a regeneration of an earlier answer, or an edited prompt. */
export type TurnKind = 'prompt' | 'regeneration' | 'edit';

/** What a settled turn offers besides Copy; each is set (or unset) by the conversation. */
export interface TurnActions {
  /** Only on the conversation's last turn. */
  readonly onRegenerate?: () => void;
  readonly onEdit?: (prompt: string) => void;
}

const views = new WeakMap<Element, TurnView>();

/** One prompt and its answer in the conversation column. */
export class TurnView {
  /** The view of a `.turn` element in the column. */
  static of(element: Element): TurnView | undefined {
    return views.get(element);
  }

  readonly el: HTMLElement;
  /** Set once the server accepted the prompt (the stream's meta event, or history). */
  messageId: string | undefined;
  conversationId: string | undefined;
  private readonly userRow: HTMLDivElement;
  private readonly answerEl: HTMLDivElement;
  private readonly noticeEl: HTMLDivElement;
  private readonly footerEl: HTMLDivElement;
  private readonly actionsEl: HTMLDivElement;
  private text = '';
  private frame = 0;
  private status: ViewStatus = 'pending';
  private actions: TurnActions = {};

  constructor(
    readonly prompt: string,
    answer = '',
    readonly kind: TurnKind = 'prompt',
  ) {
    this.answerEl = h('div', { class: 'answer markdown' });
    handleCodeCopy(this.answerEl);
    this.noticeEl = h('div', { class: 'notice-slot' });
    this.footerEl = h('div', { class: 'turn-footer' });
    this.actionsEl = h('div', { class: 'turn-actions', role: 'group', 'aria-label': 'Answer actions' });
    this.userRow = h('div', { class: 'user-row' });
    this.el = h(
      'article',
      { class: 'turn', 'data-kind': kind },
      this.userRow,
      h(
        'div',
        { class: 'assistant-row' },
        h('div', { class: 'avatar', 'aria-hidden': 'true' }),
        h(
          'div',
          { class: 'assistant' },
          kind === 'regeneration' ? h('p', { class: 'turn-mark' }, 'Regenerated answer') : '',
          this.answerEl,
          this.noticeEl,
          this.footerEl,
          this.actionsEl,
        ),
      ),
    );
    views.set(this.el, this);
    this.showPrompt();
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
    enhanceAnswer(this.answerEl);
  }

  /** The prompt bubble (a regeneration repeats its turn's prompt, so shows none), with its Edit button. */
  private showPrompt(): void {
    if (this.kind === 'regeneration') {
      this.userRow.replaceChildren();
      this.userRow.hidden = true;
      return;
    }
    const edit =
      this.actions.onEdit && SETTLED.has(this.status)
        ? button('Edit', () => this.startEdit(), 'ghost small turn-edit')
        : '';
    if (edit) edit.setAttribute('aria-label', 'Edit prompt');
    this.userRow.replaceChildren(
      h(
        'div',
        { class: 'user-stack' },
        h('div', { class: 'user-bubble' }, this.prompt),
        h(
          'div',
          { class: 'user-meta' },
          this.kind === 'edit' ? h('span', { class: 'turn-mark' }, 'Edited') : '',
          edit,
        ),
      ),
    );
  }

  /** The prompt in an editable box; Send sends the edited prompt as a new turn (onEdit). */
  private startEdit(): void {
    const onEdit = this.actions.onEdit;
    if (!onEdit) return;
    const area = h('textarea', { class: 'edit-box', 'aria-label': 'Edit prompt', rows: '3' });
    area.value = this.prompt;
    const send = button('Send', () => submit(), 'primary small');
    const cancel = button('Cancel', () => this.showPrompt(), 'ghost small');
    const submit = () => {
      const edited = area.value.trim();
      if (edited === '') return;
      this.showPrompt();
      onEdit(edited);
    };
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.showPrompt();
        this.userRow.querySelector<HTMLButtonElement>('.turn-edit')?.focus();
      } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
      }
    });
    this.userRow.replaceChildren(
      h('div', { class: 'edit-card' }, area, h('div', { class: 'edit-actions' }, cancel, send)),
    );
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
  }

  /** Sets what the turn offers once settled (the conversation calls it as turns come and go). */
  setActions(actions: TurnActions): void {
    this.actions = actions;
    this.renderActions();
  }

  private renderActions(): void {
    const settled = SETTLED.has(this.status);
    const children: HTMLElement[] = [];
    if (settled && this.text !== '') {
      const copy = button(
        'Copy',
        () => {
          void copyText(this.text).then((copied) => flashCopied(copy, copied));
        },
        'ghost small',
      );
      copy.setAttribute('aria-label', 'Copy answer');
      children.push(copy);
    }
    if (settled && this.actions.onRegenerate) {
      const regenerate = button('Regenerate', this.actions.onRegenerate, 'ghost small');
      regenerate.setAttribute('aria-label', 'Regenerate answer');
      children.push(regenerate);
    }
    this.actionsEl.replaceChildren(...children);
    if (this.kind !== 'regeneration' && !this.userRow.querySelector('.edit-card')) this.showPrompt();
  }

  /** The turn's state, and for failed, stopped and interrupted turns a note and a Retry button. */
  setStatus(status: ViewStatus, detail?: string, onRetry?: () => void): void {
    this.render();
    this.status = status;
    this.el.dataset.status = status;
    const label = STATUS_TEXT[status];
    this.footerEl.replaceChildren();
    this.renderActions();
    if (label === undefined) return;
    this.footerEl.append(
      h('span', { class: `status-label status-${status}` }, label),
      detail ? h('span', { class: 'status-detail' }, detail) : '',
      onRetry ? button('Retry', onRetry, 'link') : '',
    );
  }

  showBusy(seconds: number, onRetryNow: () => void, onCancel: () => void): void {
    const card = h(
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
    );
    this.noticeEl.replaceChildren(card);
    revealNotice(card);
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
    const card = h(
      'div',
      { class: 'notice error', role: 'alert' },
      h('p', { class: 'notice-title' }, message),
      onRetry ? h('div', { class: 'notice-actions' }, button('Retry', onRetry, 'primary small')) : '',
    );
    this.noticeEl.replaceChildren(card);
    revealNotice(card);
  }

  clearNotice(): void {
    this.noticeEl.replaceChildren();
  }
}

/** A notice and its buttons are scrolled fully into view (above the composer), once laid out. */
function revealNotice(card: HTMLElement): void {
  requestAnimationFrame(() => {
    if (card.isConnected) card.scrollIntoView({ block: 'end', behavior: 'smooth' });
  });
}
