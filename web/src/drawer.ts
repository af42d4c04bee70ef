/**
 * The sidebar as a drawer on narrow screens: opened by the menu button, closed by its own close button,
 * a tap on the backdrop, Escape, or choosing a conversation. While open, the rest of the page is inert
 * (keyboard focus stays in the drawer) and focus returns to the menu button when it closes.
 */
import { byId } from './dom';

export interface Drawer {
  readonly open: () => void;
  readonly close: () => void;
  readonly isOpen: () => boolean;
}

/** The width at which the sidebar stops being a drawer (narrow-screens.css). */
const NARROW = '(max-width: 760px)';

export function createDrawer(): Drawer {
  const sidebar = byId('sidebar', HTMLElement);
  const toggle = byId('toggle-sidebar', HTMLButtonElement);
  const closeButton = byId('close-sidebar', HTMLButtonElement);
  const backdrop = byId('backdrop', HTMLElement);
  const main = byId('main', HTMLElement);
  const narrow = matchMedia(NARROW);

  const isOpen = () => sidebar.classList.contains('open');

  function open(): void {
    if (!narrow.matches) return;
    sidebar.classList.add('open');
    backdrop.hidden = false;
    main.inert = true;
    toggle.setAttribute('aria-expanded', 'true');
    // Once the drawer is visible (it slides in from visibility: hidden).
    requestAnimationFrame(() => byId('new-chat', HTMLButtonElement).focus());
  }

  function close(): void {
    const wasOpen = isOpen();
    sidebar.classList.remove('open');
    backdrop.hidden = true;
    main.inert = false;
    toggle.setAttribute('aria-expanded', 'false');
    const active = document.activeElement;
    if (wasOpen && (active === null || active === document.body || sidebar.contains(active))) toggle.focus();
  }

  toggle.addEventListener('click', () => (isOpen() ? close() : open()));
  closeButton.addEventListener('click', close);
  backdrop.addEventListener('click', close);
  document.addEventListener('keydown', (event) => {
    // A dialog (delete, settings) handles its own Escape first.
    if (event.key === 'Escape' && isOpen() && !document.querySelector('dialog[open]')) {
      event.preventDefault();
      close();
    }
  });
  // Widening the window past the drawer width leaves no drawer state behind.
  narrow.addEventListener('change', () => {
    if (!narrow.matches) close();
  });

  return { open, close, isOpen };
}
