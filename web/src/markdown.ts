/**
 * A small, safe markdown renderer for chat answers. The source is HTML-escaped FIRST; the rules below
 * only ever add a fixed set of tags (h1–h6, p, br, strong, em, code, pre, ul, ol, li, blockquote, hr, a)
 * around already-escaped text, so nothing in a prompt or an answer can become markup or script.
 * Links are emitted only for http(s) URLs. An unclosed code fence (mid-stream) runs to the end.
 */

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

/** Marks protected spans inside a line; NUL never survives input normalisation. */
const MARK = '\u0000';

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const ORDERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^ {0,3}&gt;\s?(.*)$/;

export function renderMarkdown(source: string): string {
  const lines = escapeHtml(source.replaceAll(MARK, '\uFFFD').replace(/\r\n?/g, '\n')).split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) out.push(`<p>${inline(paragraph.join('\n'))}</p>`);
    paragraph = [];
  };

  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1] ?? '```';
      const body: string[] = [];
      i++;
      while (i < lines.length) {
        const next = lines[i] ?? '';
        if (next.trim().startsWith(marker) && next.trim().replace(/[`~]/g, '') === '') break;
        body.push(next);
        i++;
      }
      i++;
      const language = fence[2] ? ` class="language-${fence[2]}"` : '';
      out.push(`<pre><code${language}>${body.join('\n')}</code></pre>`);
      continue;
    }
    if (line.trim() === '') {
      flush();
      i++;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      flush();
      const level = (heading[1] ?? '#').length;
      out.push(`<h${level}>${inline(heading[2] ?? '')}</h${level}>`);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      flush();
      out.push('<hr>');
      i++;
      continue;
    }
    const ordered = ORDERED.exec(line);
    if (ordered || BULLET.test(line)) {
      flush();
      const pattern = ordered ? ORDERED : BULLET;
      const items: string[][] = [];
      while (i < lines.length) {
        const next = lines[i] ?? '';
        const item = pattern.exec(next);
        if (item) {
          items.push([item[item.length - 1] ?? '']);
        } else if (next.trim() !== '' && /^\s/.test(next) && !FENCE.test(next)) {
          items[items.length - 1]?.push(next.trim());
        } else if (next.trim() === '' && pattern.test(lines[i + 1] ?? '')) {
          // A blank line between two items keeps the list going.
        } else {
          break;
        }
        i++;
      }
      const tag = ordered ? 'ol' : 'ul';
      const start = ordered && ordered[1] !== '1' ? ` start="${Number(ordered[1])}"` : '';
      out.push(
        `<${tag}${start}>${items.map((item) => `<li>${inline(item.join('\n'))}</li>`).join('')}</${tag}>`,
      );
      continue;
    }
    const quote = QUOTE.exec(line);
    if (quote) {
      flush();
      const body: string[] = [];
      while (i < lines.length) {
        const next = QUOTE.exec(lines[i] ?? '');
        if (!next) break;
        body.push(next[1] ?? '');
        i++;
      }
      out.push(`<blockquote>${renderEscapedParagraphs(body)}</blockquote>`);
      continue;
    }
    paragraph.push(line);
    i++;
  }
  flush();
  return out.join('');
}

function renderEscapedParagraphs(lines: readonly string[]): string {
  return lines
    .join('\n')
    .split(/\n\s*\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => `<p>${inline(block)}</p>`)
    .join('');
}

/** Inline rules over escaped text: code spans and links are set aside first so emphasis cannot reach into them. */
function inline(text: string): string {
  const kept: string[] = [];
  const keep = (html: string) => `${MARK}${kept.push(html) - 1}${MARK}`;
  let html = text
    .replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, (_m, _ticks: string, code: string) =>
      keep(`<code>${code.replace(/^ (.+) $/, '$1')}</code>`),
    )
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s()<>]+)\)/g, (_m, label: string, url: string) =>
      keep(`<a href="${url}" target="_blank" rel="noopener noreferrer">${emphasis(label)}</a>`),
    );
  html = emphasis(html).replace(/\n/g, '<br>');
  return html.replace(
    new RegExp(`${MARK}(\\d+)${MARK}`, 'g'),
    (_m, index: string) => kept[Number(index)] ?? '',
  );
}

function emphasis(text: string): string {
  return text
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1<strong>$2</strong>')
    .replace(/\*(?=[^\s*])([^*]*?[^\s*])\*/g, '<em>$1</em>')
    .replace(/\*(?=[^\s*])([^*])\*/g, '<em>$1</em>')
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_])_(?!\w)/g, '$1<em>$2</em>');
}
