import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from './support/browser';

/**
 * The answer renderer (web/src/markdown.ts: marked + DOMPurify, and code-blocks.ts: code headers, tables,
 * the lazy highlighter) in Chromium, where DOMPurify runs on a real DOM. No stack: the modules are
 * bundled into a blank page that renders into #root as TurnView does, once per call.
 */
describe('answer markdown in the browser', () => {
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    const bundle = await build({
      stdin: {
        contents: `import { renderMarkdown } from './markdown';
import { enhanceAnswer } from './code-blocks';
window.render = (source) => {
  const root = document.getElementById('root');
  root.innerHTML = renderMarkdown(source);
  enhanceAnswer(root);
  return root.innerHTML;
};`,
        resolveDir: join(process.cwd(), 'web', 'src'),
        loader: 'ts',
      },
      bundle: true,
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.setContent('<!doctype html><html><body><div id="root"></div></body></html>');
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '' });
  });

  afterAll(async () => {
    await browser?.close();
  });

  const render = (source: string) =>
    page.evaluate((text) => (Reflect.get(window, 'render') as (s: string) => string)(text), source);

  it('never lets HTML through, in text, code, tables, task lists or links, and runs none of it', async () => {
    // Prepare
    const attack = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    const source = [
      attack,
      `\`${attack}\``,
      `\`\`\`html\n${attack}\n\`\`\``,
      `- ${attack}`,
      `- [ ] ${attack}`,
      `| a | b |\n|---|---|\n| ${attack} | <b onclick="x()">b</b> |`,
      `[click](javascript:window.__xss=3) [data](data:text/html,<script>x</script>) [v](vbscript:x)`,
      '<a href="javascript:alert(1)">raw</a> <iframe src="https://example.com"></iframe>',
      '![img](https://example.com/x.png)',
      '<svg onload="window.__xss=4"></svg> <style>body{display:none}</style>',
    ].join('\n\n');

    // Act
    const html = await render(source);

    // Assess
    expect(html).not.toMatch(/<(img|script|iframe|svg|style|b)\b/);
    const handlers = await page
      .locator('#root *')
      .evaluateAll((all) =>
        all.flatMap((e) => e.getAttributeNames().filter((name) => name.startsWith('on'))),
      );
    expect(handlers).toEqual([]);
    const hrefs = await page
      .locator('#root a[href]')
      .evaluateAll((all) => all.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual([]);
    expect(html).toContain('&lt;img src=x onerror="window.__xss=1"&gt;');
    await page.waitForTimeout(100);
    await expect(page.evaluate(() => Reflect.get(window, '__xss'))).resolves.toBeUndefined();
    await expect(page.locator('#root input:not([type="checkbox"])').count()).resolves.toBe(0);
  });

  it('stays safe at every cut of a streaming answer (each prefix is rendered and sanitised)', async () => {
    const source =
      '| a |\n|---|\n| <img src=x onerror="window.__xss=5"> |\n\n```js\n<script>window.__xss=6</script>';
    for (let end = 1; end <= source.length; end += 3) {
      expect(await render(source.slice(0, end))).not.toMatch(/<(img|script)\b/);
    }
    await expect(page.evaluate(() => Reflect.get(window, '__xss'))).resolves.toBeUndefined();
  });

  it('opens http(s) links in a new tab without an opener, and autolinks bare URLs', async () => {
    // Act
    await render(
      '[docs](https://example.com/a_b?x=1&y=2) and https://example.org/path and <mailto:me@example.com>',
    );

    // Assess
    const links = await page
      .locator('#root a')
      .evaluateAll((anchors) =>
        anchors.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]),
      );
    expect(links).toEqual([
      ['https://example.com/a_b?x=1&y=2', '_blank', 'noopener noreferrer'],
      ['https://example.org/path', '_blank', 'noopener noreferrer'],
      ['mailto:me@example.com', '_blank', 'noopener noreferrer'],
    ]);
  });

  it('renders GFM tables (with alignment, in a scrolling frame), task lists and strikethrough', async () => {
    // Act
    await render(
      '| Name | Cost |\n| :--- | ---: |\n| **a** | 1 |\n| b | 2 |\n\n- [x] done\n- [ ] todo\n\n~~old~~ new',
    );

    // Assess
    const table = page.locator('#root .table-wrap > table');
    await expect(table.locator('th').allTextContents()).resolves.toEqual(['Name', 'Cost']);
    await expect(table.locator('tbody tr').count()).resolves.toBe(2);
    await expect(table.locator('td[align="right"]').first().textContent()).resolves.toBe('1');
    await expect(table.locator('strong').textContent()).resolves.toBe('a');
    const boxes = page.locator('#root li input[type="checkbox"]');
    await expect(boxes.count()).resolves.toBe(2);
    await expect(
      boxes.evaluateAll((all) =>
        all.map((b) => [(b as HTMLInputElement).checked, (b as HTMLInputElement).disabled]),
      ),
    ).resolves.toEqual([
      [true, true],
      [false, true],
    ]);
    await expect(page.locator('#root del').textContent()).resolves.toBe('old');
  });

  it('gives code blocks a language label and a copy button, and highlights them once the highlighter loads', async () => {
    // Act
    await render('```python\ndef f(x):\n    return x + 1  # add\n```\n\n```\nplain <b>text</b>\n```');

    // Assess
    const blocks = page.locator('#root .code-block');
    await expect(blocks.count()).resolves.toBe(2);
    await expect(blocks.locator('.code-lang').allTextContents()).resolves.toEqual(['python', 'text']);
    await expect(blocks.getByRole('button', { name: 'Copy code' }).count()).resolves.toBe(2);
    await page.locator('#root code.hljs .hljs-keyword').first().waitFor();
    await expect(page.locator('#root code.hljs .hljs-comment').textContent()).resolves.toBe('# add');
    await expect(blocks.nth(0).locator('code').textContent()).resolves.toBe(
      'def f(x):\n    return x + 1  # add',
    );
    await expect(blocks.nth(1).locator('code').textContent()).resolves.toBe('plain <b>text</b>');
    await expect(blocks.nth(1).locator('code b').count()).resolves.toBe(0);
  });

  it('runs an unclosed fence to the end, as while an answer streams', async () => {
    await render('Here:\n```ts\nconst a = 1;');
    await expect(page.locator('#root p').textContent()).resolves.toBe('Here:');
    await expect(page.locator('#root pre code').textContent()).resolves.toBe('const a = 1;');
  });
});
