/**
 * What a rendered answer gets beyond its sanitised HTML: each code block a header (its language and a
 * Copy button) and syntax highlighting, each table a scrolling frame. The highlighter is a separate chunk
 * (highlight.ts), fetched on the first code block; until it arrives, and for languages it does not know,
 * code shows as plain text. Runs again after every render while an answer streams: the highlighted HTML
 * of a block is cached by its text, so finished blocks cost nothing per frame.
 */
import { copyText, flashCopied } from './clipboard';
import { h } from './dom';
import { sanitizeHighlighted } from './markdown';

type Highlighter = (code: string, language: string) => string | undefined;

let highlighter: Highlighter | undefined;
let requested = false;
const waiting = new Set<HTMLElement>();
const cache = new Map<string, string | null>();
const CACHE_LIMIT = 200;

function loadHighlighter(): void {
  if (requested) return;
  requested = true;
  void import('./highlight')
    .then((module) => {
      highlighter = module.highlight;
      for (const root of waiting) if (root.isConnected) highlightIn(root);
      waiting.clear();
    })
    .catch(() => {
      // Offline or blocked: code stays plain text, still readable and copyable.
    });
}

function highlighted(code: string, language: string): string | undefined {
  if (!highlighter) return undefined;
  const key = `${language}\u0000${code}`;
  let html = cache.get(key);
  if (html === undefined) {
    const raw = highlighter(code, language);
    html = raw === undefined ? null : sanitizeHighlighted(raw);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value ?? '');
    cache.set(key, html);
  }
  return html ?? undefined;
}

function highlightIn(root: HTMLElement): void {
  for (const code of root.querySelectorAll<HTMLElement>('pre > code[class*="language-"]')) {
    if (code.classList.contains('hljs')) continue;
    const language = /language-([\w+#.-]+)/.exec(code.className)?.[1] ?? '';
    const html = highlighted(code.textContent ?? '', language);
    if (html === undefined) continue;
    code.innerHTML = html;
    code.classList.add('hljs');
  }
}

/** Adds code headers, table frames and highlighting to a freshly rendered answer. */
export function enhanceAnswer(root: HTMLElement): void {
  let hasCode = false;
  for (const pre of root.querySelectorAll<HTMLPreElement>('pre')) {
    if (pre.parentElement?.classList.contains('code-block')) continue;
    hasCode = true;
    const code = pre.querySelector('code');
    const language = /language-([\w+#.-]+)/.exec(code?.className ?? '')?.[1] ?? '';
    // Focusable so that a block wider than the column scrolls with the keyboard.
    pre.tabIndex = 0;
    pre.setAttribute('aria-label', language ? `${language} code` : 'Code');
    const copy = h(
      'button',
      { type: 'button', class: 'copy-code' },
      h('span', { class: 'label' }, 'Copy code'),
    );
    const block = h(
      'div',
      { class: 'code-block' },
      h('div', { class: 'code-header' }, h('span', { class: 'code-lang' }, language || 'text'), copy),
    );
    pre.replaceWith(block);
    block.append(pre);
  }
  for (const table of root.querySelectorAll('table')) {
    if (table.parentElement?.classList.contains('table-wrap')) continue;
    const frame = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Table' });
    table.replaceWith(frame);
    frame.append(table);
  }
  if (!hasCode) return;
  if (highlighter) highlightIn(root);
  else {
    waiting.add(root);
    loadHighlighter();
  }
}

/** One listener per answer element: its code blocks' Copy buttons (rebuilt by every render). */
export function handleCodeCopy(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('.copy-code') : null;
    if (!(target instanceof HTMLButtonElement)) return;
    const code = target.closest('.code-block')?.querySelector('pre code')?.textContent ?? '';
    void copyText(code).then((copied) => flashCopied(target, copied));
  });
}
