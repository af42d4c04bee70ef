/**
 * Chat answers as GitHub-flavoured markdown: marked parses (tables, task lists, strikethrough, autolinks,
 * fenced code), DOMPurify sanitises every render, including each one while an answer streams. Raw HTML in
 * the source is shown as text, never parsed. Links keep only http(s) and mailto URLs and open in a new
 * tab with rel="noopener noreferrer"; images are dropped (the page's CSP would block them anyway).
 * An unclosed code fence (mid-stream) runs to the end.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A fence's language, kept only when it is a plain name (it becomes a class and a label). */
export function languageOf(info: string | undefined): string {
  const name = (info ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return /^[a-z0-9_+#.-]{1,32}$/.test(name) ? name : '';
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    // HTML in an answer (or a prompt) is text: shown, never parsed.
    html: ({ text }) => escapeHtml(text),
    code({ text, lang }) {
      const language = languageOf(lang);
      const className = language ? ` class="language-${language}"` : '';
      return `<pre><code${className}>${escapeHtml(text.replace(/\n$/, ''))}</code></pre>`;
    },
    checkbox: ({ checked }) =>
      `<input type="checkbox" disabled${checked ? ' checked' : ''} aria-label="${checked ? 'Done' : 'Not done'}"> `,
    image: ({ text }) => escapeHtml(text),
  },
});

const SAFE_URL = /^(?:https?:|mailto:)/i;

const PURIFY_CONFIG = {
  ALLOWED_TAGS: [
    'a',
    'blockquote',
    'br',
    'code',
    'del',
    'em',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'input',
    'li',
    'ol',
    'p',
    'pre',
    'span',
    'strong',
    'table',
    'tbody',
    'td',
    'th',
    'thead',
    'tr',
    'ul',
  ],
  ALLOWED_ATTR: ['href', 'title', 'class', 'start', 'align', 'type', 'checked', 'disabled', 'aria-label'],
  ALLOW_DATA_ATTR: false,
};

let hooked = false;

function installHooks(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node instanceof HTMLAnchorElement) {
      const href = node.getAttribute('href') ?? '';
      if (!SAFE_URL.test(href)) node.removeAttribute('href');
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer');
    } else if (node instanceof HTMLInputElement) {
      // Task-list boxes only: read-only checkboxes.
      if (node.getAttribute('type') !== 'checkbox') node.remove();
      else node.setAttribute('disabled', '');
    } else if (node.hasAttribute('class') && !/^(?:language-[\w+#.-]+|hljs[\w -]*)$/.test(node.className)) {
      node.removeAttribute('class');
    }
  });
}

/** The answer's HTML, sanitised. Safe to assign to innerHTML. */
export function renderMarkdown(source: string): string {
  installHooks();
  const html = marked.parse(source.replace(/\r\n?/g, '\n')) as string;
  return DOMPurify.sanitize(html, { ...PURIFY_CONFIG, ADD_ATTR: ['target', 'rel'] });
}

/** Sanitises highlighter output (spans with hljs classes) before it replaces a code block's text. */
export function sanitizeHighlighted(html: string): string {
  installHooks();
  return DOMPurify.sanitize(html, { ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'] });
}
