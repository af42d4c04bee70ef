import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
 * The web client in the dark colour scheme (the system's `prefers-color-scheme: dark`) at desktop and phone
 * sizes: the login view, a markdown answer caught while it streams (the renderer's half-built table and
 * code block) and once complete, each screenshotted and held to axe-core, colour contrast included.
 * Answers stream slowly enough here to be seen half-way.
 */
describe('the dark colour scheme', () => {
  const stack = suiteStack('dark', {
    LOCAL_FLEET_TOKENS_PER_SECOND: '40',
    LOCAL_FLEET_ANSWER_TOKENS: '200',
    LOCAL_FLEET_TTFT_MS: '20',
  });

  describe.each(SIZES)('at %s size', (size) => {
    let browser: TestBrowser;
    let page: Page;
    const email = size === 'desktop' ? 'alice@example.com' : 'bob@example.com';
    const shot = (name: string) => screenshot(page, `${size}-dark-${name}`);

    beforeAll(async () => {
      browser = await launchBrowser(size);
      page = await browser.newPage();
      await page.emulateMedia({ colorScheme: 'dark' });
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('shows the login view dark, with no serious axe violations', async () => {
      await page.goto(stack.url);
      await page.getByLabel('Email').waitFor();

      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await shot('login');

      expect(luminance(background)).toBeLessThan(0.2);
      expect(await seriousViolations(page)).toEqual([]);
    });

    it('streams a markdown answer, seen half-built and complete, with no serious axe violations', async () => {
      // Prepare
      await logInThroughForm(page, stack.url, email);

      // Act
      await send(page, 'Show me a table and some python code about caching');
      const answer = lastTurn(page).locator('.answer');
      await page.locator('#turns > .turn:last-child[data-status="streaming"] .answer table').waitFor();
      await shot('streaming-markdown');
      const whileStreaming = await seriousViolations(page);
      await waitForStatus(page, 'completed');

      // Assess: the table and highlighted code render in the dark scheme, and read well in it.
      await answer.locator('code.hljs .hljs-keyword').first().waitFor();
      await lastTurn(page).locator('.code-block').scrollIntoViewIfNeeded();
      await shot('rich-answer');
      expect(whileStreaming).toEqual([]);
      expect(await seriousViolations(page)).toEqual([]);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(luminance(background)).toBeLessThan(0.2);
    });
  });
});

/** Relative luminance (0 black … 1 white) of a computed `rgb(…)` colour. */
function luminance(color: string): number {
  const [r = 0, g = 0, b = 0] = (color.match(/\d+(\.\d+)?/g) ?? []).map(Number).map((channel) => {
    const c = channel / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
