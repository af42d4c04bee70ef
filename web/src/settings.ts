/**
 * The settings view (a modal dialog from the account menu): the account and its plan, export of every
 * conversation as JSON (GET /chat/export), erasing them all (DELETE /chat/history, after a confirmation),
 * and the keyboard shortcuts.
 */

import { confirmAction, openDialog } from './dialog';
import { button, h } from './dom';
import type { AppState } from './state';

export interface SettingsCallbacks {
  /** Every conversation was erased: the list and the open chat start empty. */
  readonly onErased: () => void;
}

export const SHORTCUTS: readonly (readonly [string, string])[] = [
  ['Ctrl + Shift + O', 'New chat'],
  ['Shift + Esc', 'Focus the message box'],
  ['Enter', 'Send (Shift + Enter: new line)'],
  ['Esc', 'Close the menu, a dialog or an edit'],
];

export function openSettings(state: AppState, callbacks: SettingsCallbacks): Promise<unknown> {
  const client = state.api;
  if (!client) return Promise.resolve();
  const { session } = client;
  return openDialog(
    'Settings',
    (close) => {
      const status = h('p', { class: 'form-notice', role: 'status' });
      const exportButton = button(
        'Export data',
        () => {
          exportButton.disabled = true;
          status.textContent = 'Preparing your export…';
          client
            .exportHistory()
            .then((blob) => {
              const url = URL.createObjectURL(blob);
              const link = h('a', {
                href: url,
                download: `chat-export-${new Date().toISOString().slice(0, 10)}.json`,
              });
              document.body.append(link);
              link.click();
              link.remove();
              setTimeout(() => URL.revokeObjectURL(url), 10_000);
              status.textContent = 'Your export was downloaded.';
            })
            .catch(() => {
              status.textContent = "Couldn't export your data. Try again in a moment.";
            })
            .finally(() => {
              exportButton.disabled = false;
            });
        },
        'ghost',
      );
      const eraseButton = button(
        'Erase all chats',
        () => {
          void (async () => {
            const confirmed = await confirmAction(
              'Erase all chats?',
              "Every conversation and message will be deleted, on every device. This can't be undone.",
              'Erase all',
            );
            if (!confirmed || client !== state.api) return;
            eraseButton.disabled = true;
            try {
              await client.eraseHistory();
              callbacks.onErased();
              status.textContent = 'All chats were erased.';
            } catch {
              status.textContent = "Couldn't erase your chats. Try again in a moment.";
            } finally {
              eraseButton.disabled = false;
            }
          })();
        },
        'danger',
      );
      const done = button('Done', () => close(), 'primary');
      queueMicrotask(() => done.focus());
      return [
        h(
          'section',
          { class: 'settings-section', 'aria-labelledby': 'settings-account' },
          h('h3', { id: 'settings-account' }, 'Account'),
          h(
            'p',
            { class: 'settings-row' },
            h('span', {}, session.email),
            h(
              'span',
              { class: 'badge', 'data-tier': session.tier },
              session.tier === 'premium' ? 'Premium' : 'Free',
            ),
          ),
        ),
        h(
          'section',
          { class: 'settings-section', 'aria-labelledby': 'settings-data' },
          h('h3', { id: 'settings-data' }, 'Data'),
          h('p', { class: 'muted small' }, 'Download every conversation as JSON, or erase them all.'),
          h('div', { class: 'settings-actions' }, exportButton, eraseButton),
          status,
        ),
        h(
          'section',
          { class: 'settings-section', 'aria-labelledby': 'settings-keys' },
          h('h3', { id: 'settings-keys' }, 'Keyboard shortcuts'),
          h(
            'dl',
            { class: 'shortcuts' },
            ...SHORTCUTS.flatMap(([keys, what]) => [h('dt', {}, h('kbd', {}, keys)), h('dd', {}, what)]),
          ),
        ),
        h('div', { class: 'dialog-actions' }, done),
      ];
    },
    'settings',
  );
}
