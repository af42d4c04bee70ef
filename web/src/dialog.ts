/**
 * Modal dialogs on the native <dialog> (focus is trapped and restored by the browser, Escape closes):
 * a confirmation for destructive actions, and the frame the settings view uses.
 */
import { button, h } from './dom';

/** Opens a modal dialog built by `build`; resolves with the value `close` was called with (Escape: undefined). */
export function openDialog<T>(
  title: string,
  build: (close: (value?: T) => void, titleId: string) => Node[],
  className = '',
): Promise<T | undefined> {
  const titleId = `dialog-title-${Math.random().toString(36).slice(2, 8)}`;
  const dialog = h('dialog', { class: `dialog ${className}`.trim(), 'aria-labelledby': titleId });
  let result: T | undefined;
  const close = (value?: T) => {
    result = value;
    dialog.close();
  };
  dialog.append(h('h2', { id: titleId, class: 'dialog-title' }, title), ...build(close, titleId));
  // A click on the backdrop (the dialog element itself, outside its box) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
  });
}

/** Asks before something that cannot be undone; true when confirmed. */
export async function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  const answer = await openDialog<boolean>(
    title,
    (close) => {
      const cancel = button('Cancel', () => close(false), 'ghost');
      const confirm = button(confirmLabel, () => close(true), 'danger');
      queueMicrotask(() => cancel.focus());
      return [h('p', {}, message), h('div', { class: 'dialog-actions' }, cancel, confirm)];
    },
    'confirm',
  );
  return answer === true;
}
