/**
 * Keeps the app as tall as the visible part of the page, so the composer stays above a phone's
 * on-screen keyboard: Chrome resizes the layout for it (interactive-widget=resizes-content in the
 * viewport meta tag); Safari only shrinks the visual viewport, which sets --app-height here.
 */
export function trackViewport(): void {
  const viewport = window.visualViewport;
  if (!viewport) return;
  const update = () => {
    document.documentElement.style.setProperty('--app-height', `${Math.round(viewport.height)}px`);
  };
  viewport.addEventListener('resize', update);
  update();
}
