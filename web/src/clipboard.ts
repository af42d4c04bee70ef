/** Copies text to the clipboard; falls back to a hidden textarea where the async API is refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.append(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    return copied;
  }
}

/** Shows "Copied" on a button for a moment (its label and accessible name), then puts it back. */
export function flashCopied(button: HTMLButtonElement, copied: boolean): void {
  const label = button.dataset.label ?? button.textContent ?? '';
  const name = button.dataset.name ?? button.getAttribute('aria-label') ?? '';
  button.dataset.label = label;
  button.dataset.name = name;
  const text = button.querySelector('.label') ?? button;
  const shown = copied ? 'Copied' : 'Copy failed';
  text.textContent = shown;
  // The accessible name says it too (and keeps the visible text in it).
  if (name) button.setAttribute('aria-label', shown);
  button.classList.add('copied');
  clearTimeout(Number(button.dataset.timer ?? 0));
  button.dataset.timer = String(
    setTimeout(() => {
      text.textContent = label;
      if (name) button.setAttribute('aria-label', name);
      button.classList.remove('copied');
    }, 2_000),
  );
}
