import { readFile } from 'node:fs/promises';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fullyReachable,
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
 * Conversation management at desktop and phone sizes: the sidebar from GET /chat/conversations, two
 * chats with the same first prompt told apart and one renamed (PATCH), search by title, delete behind a
 * confirmation, export and erase-all in the settings view; on the phone, the drawer (backdrop, Escape,
 * a tap outside, choosing a conversation) and the composer above the on-screen keyboard. axe-core on each.
 */
describe('conversations in the web client', () => {
  const stack = suiteStack('conversations', {
    LOCAL_FLEET_TOKENS_PER_SECOND: '200',
    LOCAL_FLEET_ANSWER_TOKENS: '20',
    LOCAL_FLEET_TTFT_MS: '20',
  });

  describe.each(SIZES)('at %s size', (size) => {
    let browser: TestBrowser;
    let page: Page;
    /** A test only one size has: registered at that size alone, so the other size reports nothing skipped. */
    const itAt = (only: typeof size, name: string, body: () => Promise<void>, timeout?: number) => {
      if (size === only) it(name, body, timeout);
    };
    const email = size === 'desktop' ? 'alice@example.com' : 'bob@example.com';
    const shot = (name: string) => screenshot(page, `${size}-${name}`);
    const items = () => page.locator('#conversation-list .conversation-item');
    const drawerOpen = () =>
      page
        .locator('#sidebar.open')
        .count()
        .then((count) => count === 1);

    /** On the phone the list lives in the drawer: open it (a no-op at desktop size). */
    async function showSidebar(): Promise<void> {
      if (size === 'phone' && !(await drawerOpen())) {
        await page.getByRole('button', { name: 'Open sidebar' }).tap();
        await page.locator('#sidebar.open').waitFor();
        // Once it has slid in (screenshots, hit tests).
        await page
          .locator('#sidebar')
          .evaluate((sidebar) => Promise.all(sidebar.getAnimations().map((animation) => animation.finished)));
      }
    }

    async function newChat(prompt: string): Promise<void> {
      await showSidebar();
      await page.getByRole('button', { name: 'New chat' }).click();
      await send(page, prompt);
      await waitForStatus(page, 'completed');
    }

    beforeAll(async () => {
      browser = await launchBrowser(size);
      page = await browser.newPage();
      await logInThroughForm(page, stack.url, email);
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('lists conversations newest first and tells two with the same first prompt apart', async () => {
      // Act
      await newChat('Plan a weekend in Lisbon');
      await newChat('Hello there');
      await newChat('Hello there');

      // Assess: three entries, the two "Hello there" both shown, each with its time.
      await showSidebar();
      await expect(items().locator('.conversation-title').allTextContents()).resolves.toEqual([
        'Hello there',
        'Hello there',
        'Plan a weekend in Lisbon',
      ]);
      await expect(items().locator('.conversation-time').allTextContents()).resolves.toEqual([
        'now',
        'now',
        'now',
      ]);
      // The later of the two same-titled chats says it is the second one.
      await expect(items().first().locator('.conversation-dup').textContent()).resolves.toBe('(2)');
      await expect(items().nth(1).locator('.conversation-dup').count()).resolves.toBe(0);
      await expect(items().locator('[aria-current="page"]').count()).resolves.toBe(1);
      await expect(items().first().locator('[aria-current="page"]').count()).resolves.toBe(1);
      await shot('sidebar');
      expect(await seriousViolations(page)).toEqual([]);
    });

    it('renames a conversation in place with PATCH, and the new title stays after a reload', async () => {
      // Prepare
      await showSidebar();
      const patched: Request[] = [];
      const onRequest = (request: Request) => {
        if (request.method() === 'PATCH') patched.push(request);
      };
      page.on('request', onRequest);

      // Act
      await items().nth(1).hover();
      await items().nth(1).getByRole('button', { name: 'Rename “Hello there”' }).click();
      const input = page.getByRole('textbox', { name: 'New title' });
      await expect(input.inputValue()).resolves.toBe('Hello there');
      await shot('renaming');
      await input.fill('Hello again, renamed');
      await input.press('Enter');

      // Assess
      await items().locator('.conversation-title', { hasText: 'Hello again, renamed' }).waitFor();
      await expect.poll(() => patched.length).toBe(1);
      page.off('request', onRequest);
      expect(JSON.parse(patched[0]?.postData() ?? '{}')).toEqual({ title: 'Hello again, renamed' });
      expect(new URL(patched[0]?.url() ?? '').pathname).toMatch(/^\/chat\/conversations\/[A-Za-z0-9_-]+$/);
      await page.reload();
      await showSidebar();
      await items().locator('.conversation-title', { hasText: 'Hello again, renamed' }).waitFor();
    });

    it('cancels a rename with Escape', async () => {
      await showSidebar();
      await items().first().hover();
      await items()
        .first()
        .getByRole('button', { name: /^Rename/ })
        .click();
      await page.getByRole('textbox', { name: 'New title' }).fill('never saved');
      await page.keyboard.press('Escape');
      await expect(page.getByRole('textbox', { name: 'New title' }).count()).resolves.toBe(0);
      await expect(items().first().locator('.conversation-title').textContent()).resolves.toBe('Hello there');
    });

    itAt('desktop', 'renames with the keyboard alone: Tab to the chat, Tab to Rename, Enter', async () => {
      // Act: from the search box, Tab reaches the first chat's link, then its Rename button.
      await page.getByRole('searchbox', { name: 'Search chats' }).focus();
      await page.keyboard.press('Tab');
      await expect(
        page.evaluate(() => document.activeElement?.classList.contains('conversation')),
      ).resolves.toBe(true);
      await page.keyboard.press('Tab');
      await expect(page.evaluate(() => document.activeElement?.getAttribute('title'))).resolves.toBe(
        'Rename',
      );
      await shot('keyboard-focus');
      await page.keyboard.press('Enter');
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type('Hello there, by keyboard');
      await page.keyboard.press('Enter');

      // Assess: renamed, and the focus is back on its Rename button.
      await items().locator('.conversation-title', { hasText: 'Hello there, by keyboard' }).waitFor();
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('title')))
        .toBe('Rename');
      // Put the title back for the tests after this one.
      await page.keyboard.press('Enter');
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.type('Hello there');
      await page.keyboard.press('Enter');
      await items()
        .locator('.conversation-title', { hasText: /^Hello there$/ })
        .waitFor();
    });

    it('searches conversations by title', async () => {
      // Act
      await showSidebar();
      await page.getByRole('searchbox', { name: 'Search chats' }).fill('lisbon');

      // Assess
      await expect(items().locator('.conversation-title').allTextContents()).resolves.toEqual([
        'Plan a weekend in Lisbon',
      ]);
      await shot('search');
      await page.getByRole('searchbox', { name: 'Search chats' }).fill('no such chat');
      await page.getByText('No chats match.').waitFor();
      await page.getByRole('searchbox', { name: 'Search chats' }).fill('');
      await expect(items().count()).resolves.toBe(3);
    });

    it('deletes a conversation only after a confirmation', async () => {
      // Prepare
      await showSidebar();
      const target = items().filter({ hasText: 'Plan a weekend in Lisbon' });
      await target.hover();
      await target.getByRole('button', { name: 'Delete “Plan a weekend in Lisbon”' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete chat?' });
      await dialog.waitFor();
      await shot('delete-confirm');
      expect(await seriousViolations(page)).toEqual([]);

      // Act: Cancel keeps it; Delete removes it.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await expect(items().count()).resolves.toBe(3);
      await target.hover();
      await target.getByRole('button', { name: /^Delete/ }).click();
      await page
        .getByRole('dialog', { name: 'Delete chat?' })
        .getByRole('button', { name: 'Delete' })
        .click();

      // Assess
      await expect.poll(() => items().count()).toBe(2);
      await page.reload();
      await showSidebar();
      await expect.poll(() => items().count()).toBe(2);
      await expect(items().filter({ hasText: 'Lisbon' }).count()).resolves.toBe(0);
    });

    itAt(
      'phone',
      'closes the drawer on Escape, on a backdrop tap and on choosing a conversation',
      async () => {
        // Open: the drawer, its own close button and a backdrop; the page behind it is inert.
        await showSidebar();
        await page.locator('#backdrop').waitFor();
        expect(await fullyReachable(page, '#close-sidebar')).toBe(true);
        await expect(page.locator('#main').evaluate((main) => (main as HTMLElement).inert)).resolves.toBe(
          true,
        );
        await shot('drawer');
        expect(await seriousViolations(page)).toEqual([]);

        // Escape closes it, and the focus goes back to the menu button.
        await page.keyboard.press('Escape');
        await page.locator('#backdrop').waitFor({ state: 'hidden' });
        expect(await drawerOpen()).toBe(false);
        await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('toggle-sidebar');

        // A tap on the backdrop, outside the drawer, closes it.
        await showSidebar();
        await page.touchscreen.tap(370, 400);
        await page.locator('#backdrop').waitFor({ state: 'hidden' });
        expect(await drawerOpen()).toBe(false);

        // Its own close button too.
        await showSidebar();
        await page.getByRole('button', { name: 'Close sidebar' }).tap();
        expect(await drawerOpen()).toBe(false);

        // Choosing a conversation opens it and closes the drawer.
        await showSidebar();
        await items().filter({ hasText: 'Hello again, renamed' }).locator('a').tap();
        await page.locator('#backdrop').waitFor({ state: 'hidden' });
        await expect(page.locator('#conversation-title').textContent()).resolves.toBe('Hello again, renamed');
        expect(await drawerOpen()).toBe(false);
        await shot('drawer-closed');
      },
    );

    itAt('phone', 'keeps the composer above the on-screen keyboard', async () => {
      // Prepare: the keyboard takes the lower ~40% of the screen (the layout resizes for it).
      await page.getByLabel('Message').tap();
      await page.setViewportSize({ width: 390, height: 500 });

      // Assess: the message box and Send are on screen and not covered.
      await page.getByLabel('Message').fill('Typing with the keyboard up');
      expect(await fullyReachable(page, '#message')).toBe(true);
      expect(await fullyReachable(page, '#send')).toBe(true);
      await shot('keyboard');
      await page.getByLabel('Message').fill('');
      await page.setViewportSize({ width: 390, height: 844 });
    });

    it('exports every conversation as JSON from the settings view', async () => {
      // Prepare
      await showSidebar();
      await page.getByRole('button', { name: 'Settings' }).click();
      const dialog = page.getByRole('dialog', { name: 'Settings' });
      await dialog.waitFor();
      await expect(dialog.locator('.badge').textContent()).resolves.toBe(
        size === 'desktop' ? 'Free' : 'Premium',
      );
      await shot('settings');
      expect(await seriousViolations(page)).toEqual([]);

      // Act
      const download = page.waitForEvent('download');
      await dialog.getByRole('button', { name: 'Export data' }).click();

      // Assess
      const file = await download;
      expect(file.suggestedFilename()).toMatch(/^chat-export-\d{4}-\d{2}-\d{2}\.json$/);
      const exported = JSON.parse(await readFile((await file.path()) ?? '', 'utf8'));
      expect(exported.conversations.map((c: { title: string }) => c.title).sort()).toEqual([
        'Hello again, renamed',
        'Hello there',
      ]);
      expect(exported.chats).toHaveLength(2);
      await dialog.getByText('Your export was downloaded.').waitFor();
    });

    it('erases every conversation from the settings view after a confirmation', async () => {
      // Act
      const dialog = page.getByRole('dialog', { name: 'Settings' });
      await dialog.getByRole('button', { name: 'Erase all chats' }).click();
      const confirm = page.getByRole('dialog', { name: 'Erase all chats?' });
      await confirm.waitFor();
      await shot('erase-confirm');
      await confirm.getByRole('button', { name: 'Erase all' }).click();

      // Assess
      await dialog.getByText('All chats were erased.').waitFor();
      await page.keyboard.press('Escape');
      await expect(page.getByRole('dialog').count()).resolves.toBe(0);
      await page.reload();
      await showSidebar();
      await page.getByText('No conversations yet.').waitFor();
      await expect(items().count()).resolves.toBe(0);
    });
  });
});
