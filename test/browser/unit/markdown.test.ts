import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMarkdown } from '../../../web/src/markdown';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('renderMarkdown', () => {
  it('never lets HTML through, in text, code or links', () => {
    // Prepare
    const attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

    // Act
    const html = renderMarkdown(`${attack}\n\n\`${attack}\`\n\n\`\`\`html\n${attack}\n\`\`\`\n\n- ${attack}`);

    // Assess
    expect(html).not.toMatch(/<(img|script)/);
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
  });

  it('makes links only for http and https', () => {
    expect(renderMarkdown('[a](https://example.com/a_b_c?x=1&y=2)')).toBe(
      '<p><a href="https://example.com/a_b_c?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">a</a></p>',
    );
    expect(renderMarkdown('[a](javascript:alert(1)) [b](data:text/html,x)')).not.toContain('<a');
    expect(renderMarkdown('[a](https://x.com/"onmouseover="alert(1))')).not.toMatch(/href="[^"]*"on/);
  });

  it('renders headings, emphasis, inline code and paragraphs', () => {
    expect(renderMarkdown('# Title\n\nSome **bold**, *italic*, _also_ and `a*b*c`.\nNext line')).toBe(
      '<h1>Title</h1><p>Some <strong>bold</strong>, <em>italic</em>, <em>also</em> and <code>a*b*c</code>.<br>Next line</p>',
    );
    expect(renderMarkdown('snake_case_name stays')).toBe('<p>snake_case_name stays</p>');
  });

  it('renders fenced code blocks verbatim, with a safe language class', () => {
    expect(renderMarkdown('```ts\nconst a = **b** < c;\n```')).toBe(
      '<pre><code class="language-ts">const a = **b** &lt; c;</code></pre>',
    );
  });

  it('runs an unclosed fence to the end, as while an answer streams', () => {
    expect(renderMarkdown('Here:\n```\nline 1\nline 2')).toBe(
      '<p>Here:</p><pre><code>line 1\nline 2</code></pre>',
    );
  });

  it('renders bullet and numbered lists', () => {
    expect(renderMarkdown('- one\n- **two**\n\n1. first\n2. second')).toBe(
      '<ul><li>one</li><li><strong>two</strong></li></ul><ol><li>first</li><li>second</li></ol>',
    );
    expect(renderMarkdown('3. three\n4. four')).toBe('<ol start="3"><li>three</li><li>four</li></ol>');
  });

  it('renders quotes and rules', () => {
    expect(renderMarkdown('> quoted\n\n---')).toBe('<blockquote><p>quoted</p></blockquote><hr>');
  });
});
