import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clipboardText,
  lastTurn,
  launchBrowser,
  logInThroughForm,
  SIZES,
  screenshot,
  send,
  seriousViolations,
  type TestBrowser,
  waitForStatus,
} from './support/browser';
import { suiteStack } from './support/suite-stack';

/**
 * Rich answers and per-message actions, at desktop (1280×800) and phone (390×844, touch) sizes, against
 * the whole local stack: a prompt asking for a table and code renders a <table> and a highlighted code
 * block whose Copy button puts the code on the clipboard; Regenerate and Edit send new turns marked as
 * such (also after a reload); the keyboard shortcuts; axe-core on each view. The simulated fleet writes
 * markdown for such prompts (local/fleet/markdown-text.ts). Alice at desktop size, bob (premium) on the phone.
 */
describe('rich answers and message actions', () => {
  const stack = suiteStack('answers', {
    LOCAL_FLEET_TOKENS_PER_SECOND: '150',
    LOCAL_FLEET_ANSWER_TOKENS: '30',
    LOCAL_FLEET_TTFT_MS: '20',
  });

  describe.each(SIZES)('at %s size', (size) => {
    let browser: TestBrowser;
    let page: Page;
    const email = size === 'desktop' ? 'alice@example.com' : 'bob@example.com';
    const shot = (name: string) => screenshot(page, `${size}-${name}`);

    beforeAll(async () => {
      browser = await launchBrowser(size);
      page = await browser.newPage();
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('logs in, shows the tier, and the login and empty chat views have no serious axe violations', async () => {
      // Prepare
      await page.goto(stack.url);
      await page.getByLabel('Email').waitFor();
      await shot('login');
      expect(await seriousViolations(page)).toEqual([]);

      // Act
      await logInThroughForm(page, stack.url, email);

      // Assess
      await expect(page.locator('#tier-badge').textContent()).resolves.toBe(
        size === 'desktop' ? 'Free' : 'Premium',
      );
      await shot('chat-empty');
      expect(await seriousViolations(page)).toEqual([]);
    });

    it('renders a table and a highlighted code block whose copy button puts the code on the clipboard', async () => {
      // Act
      await send(page, 'Show me a table and some python code about caching');
      await waitForStatus(page, 'completed');

      // Assess: the table, with its header and rows.
      const answer = lastTurn(page).locator('.answer');
      await expect(answer.locator('table th').allTextContents()).resolves.toEqual([
        'Option',
        'Effort',
        'Time',
        'Recommended',
      ]);
      expect(await answer.locator('table tbody tr').count()).toBeGreaterThanOrEqual(3);
      await expect(answer.getByRole('heading', { name: 'Caching' }).count()).resolves.toBe(1);
      // The code block: labelled, highlighted, and copied exactly.
      const block = answer.locator('.code-block').first();
      await expect(block.locator('.code-lang').textContent()).resolves.toBe('python');
      await block.locator('code.hljs .hljs-keyword').first().waitFor();
      const code = (await block.locator('pre code').textContent()) ?? '';
      expect(code).toContain('def count_caching(items: list[str]) -> dict[str, int]:');
      await block.getByRole('button', { name: 'Copy code' }).click();
      await block.getByText('Copied').waitFor();
      await expect(clipboardText(page)).resolves.toBe(code);
      // Links open in a new tab, without an opener.
      await expect(answer.locator('a').first().getAttribute('rel')).resolves.toBe('noopener noreferrer');
      await lastTurn(page).locator('.code-block').scrollIntoViewIfNeeded();
      await shot('rich-answer');
      expect(await seriousViolations(page)).toEqual([]);
    });

    it('copies the whole answer as markdown', async () => {
      // Act
      await lastTurn(page).getByRole('button', { name: 'Copy answer' }).click();

      // Assess
      const copied = await clipboardText(page);
      expect(copied).toMatch(/^## Caching\n/);
      expect(copied).toContain('| Option | Effort | Time | Recommended |');
      expect(copied).toContain('```python\n');
    });

    it('regenerates the last answer as a new turn of the same conversation, marked as a regeneration', async () => {
      // Prepare
      const conversationUrl = page.url();
      const posted: Request[] = [];
      const onRequest = (request: Request) => {
        if (request.method() === 'POST' && new URL(request.url()).pathname === '/chat') posted.push(request);
      };
      page.on('request', onRequest);

      // Act
      await lastTurn(page).getByRole('button', { name: 'Regenerate answer' }).click();
      await page.locator('#turns > .turn[data-kind="regeneration"][data-status="completed"]').waitFor();
      page.off('request', onRequest);

      // Assess: one POST with regenerate_of, in the same conversation; the new turn shows no second prompt.
      expect(posted).toHaveLength(1);
      const body = JSON.parse(posted[0]?.postData() ?? '{}');
      expect(body).toMatchObject({ prompt: 'Show me a table and some python code about caching' });
      expect(body.regenerate_of).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(conversationUrl).toContain(body.conversation_id);
      expect(page.url()).toBe(conversationUrl);
      await expect(page.locator('#turns > .turn').count()).resolves.toBe(2);
      await expect(lastTurn(page).getByText('Regenerated answer').count()).resolves.toBe(1);
      await expect(lastTurn(page).locator('.user-bubble').count()).resolves.toBe(0);
      // Only the last turn offers Regenerate.
      await expect(page.getByRole('button', { name: 'Regenerate answer' }).count()).resolves.toBe(1);
      await expect(lastTurn(page).locator('table').count()).resolves.toBe(1);
      await shot('regenerated');
      // Stored as such: still marked after a reload.
      await page.reload();
      await page.locator('#turns > .turn[data-kind="regeneration"][data-status="completed"]').waitFor();
    });

    it('edits a sent prompt and resends it as a new turn marked as an edit', async () => {
      // Prepare
      const first = page.locator('#turns > .turn').first();
      await first.hover();
      await first.getByRole('button', { name: 'Edit prompt' }).click();
      const box = first.getByRole('textbox', { name: 'Edit prompt' });
      await expect(box.inputValue()).resolves.toBe('Show me a table and some python code about caching');
      await box.fill('Give me a checklist for planting tomatoes');
      await shot('editing');
      const posted = page.waitForRequest(
        (request) => request.method() === 'POST' && new URL(request.url()).pathname === '/chat',
      );

      // Act
      await first.getByRole('button', { name: 'Send', exact: true }).click();

      // Assess
      const body = JSON.parse((await posted).postData() ?? '{}');
      expect(body.prompt).toBe('Give me a checklist for planting tomatoes');
      expect(body.edit_of).toMatch(/^[A-Za-z0-9_-]+$/);
      await page.locator('#turns > .turn[data-kind="edit"][data-status="completed"]').waitFor();
      await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(
        'Give me a checklist for planting tomatoes',
      );
      await expect(lastTurn(page).getByText('Edited', { exact: true }).count()).resolves.toBe(1);
      await expect(lastTurn(page).locator('.answer input[type="checkbox"]').count()).resolves.toBe(3);
      // The original prompt is unchanged above it.
      await expect(first.locator('.user-bubble').textContent()).resolves.toBe(
        'Show me a table and some python code about caching',
      );
      await shot('edited');
      await page.reload();
      await page.locator('#turns > .turn[data-kind="edit"][data-status="completed"]').waitFor();
      expect(await seriousViolations(page)).toEqual([]);
    });

    it('cancels an edit with Escape, keeping the prompt', async () => {
      const first = page.locator('#turns > .turn').first();
      await first.hover();
      await first.getByRole('button', { name: 'Edit prompt' }).click();
      await first.getByRole('textbox', { name: 'Edit prompt' }).fill('never sent');
      await page.keyboard.press('Escape');
      await expect(first.getByRole('textbox', { name: 'Edit prompt' }).count()).resolves.toBe(0);
      await expect(first.locator('.user-bubble').textContent()).resolves.toBe(
        'Show me a table and some python code about caching',
      );
    });

    it('has keyboard shortcuts for a new chat and for focusing the message box', async () => {
      // Act: Ctrl+Shift+O starts a new chat with the focus in the message box.
      await page.locator('#conversation-title').click();
      await page.keyboard.press('Control+Shift+O');

      // Assess
      await expect(page.locator('#conversation-title').textContent()).resolves.toBe('New chat');
      expect(page.url()).not.toContain('#/c/');
      await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('message');
      // Shift+Escape brings the focus back from anywhere.
      await page.locator('#conversation-title').click();
      await page.keyboard.press('Shift+Escape');
      await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('message');
    });

    it(
      size === 'desktop'
        ? 'sends with Enter and makes a new line with Shift+Enter, as the hint says'
        : 'shows no Enter hint on a touch screen, where Enter makes a new line and the Send button sends',
      async () => {
        const hint = page.locator('.enter-hint');
        await page.getByLabel('Message').fill('Tell me about rivers');
        if (size === 'desktop') {
          expect(await hint.isVisible()).toBe(true);
          await page.keyboard.press('Shift+Enter');
          await expect(page.getByLabel('Message').inputValue()).resolves.toBe('Tell me about rivers\n');
          await page.keyboard.press('Enter');
        } else {
          expect(await hint.isVisible()).toBe(false);
          await page.keyboard.press('Enter');
          await expect(page.getByLabel('Message').inputValue()).resolves.toBe('Tell me about rivers\n');
          await page.getByRole('button', { name: 'Send' }).tap();
        }
        await waitForStatus(page, 'completed');
        await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(
          'Tell me about rivers',
        );
        await shot('prose-answer');
      },
    );
  });
});
