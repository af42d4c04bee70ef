import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { titleFromPrompt } from '../../domain/conversation';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { type SpawnedStack, spawnLocalStack } from '../support/local-stack';
import {
  lastTurn,
  launchBrowser,
  logInThroughForm,
  screenshot,
  send,
  type TestBrowser,
  waitForStatus,
} from './support/browser';

/**
 * The web client against the whole local stack: log in, a streamed answer, history after a reload,
 * Stop, an XSS attempt, client-side error paths, log out. One alice session through the file.
 * Answers are 60 tokens at 20 tokens/s: about 3 s, slow enough to watch them grow.
 */
describe('web client', () => {
  let dataDir: string;
  let stack: SpawnedStack;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chat-web-'));
    [stack, browser] = await Promise.all([
      spawnLocalStack({
        dataDir,
        env: {
          ...UNMETERED_QUOTAS_ENV,
          LOCAL_FLEET_TOKENS_PER_SECOND: '20',
          LOCAL_FLEET_ANSWER_TOKENS: '60',
          LOCAL_FLEET_TTFT_MS: '50',
        },
      }),
      launchBrowser(),
    ]);
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('logs in with the Cognito settings from /config.json and shows the tier', async () => {
    // Prepare
    await page.goto(stack.url);
    await page.getByLabel('Email').waitFor();
    await screenshot(page, 'desktop-login-first');

    // Act
    await logInThroughForm(page, stack.url, 'alice@example.com');

    // Assess
    await expect(page.locator('#account-email').textContent()).resolves.toBe('alice@example.com');
    await expect(page.locator('#tier-badge').textContent()).resolves.toBe('Free');
    expect(await page.getByRole('button', { name: 'New chat' }).isVisible()).toBe(true);
  });

  it('renders the answer token by token while it streams', async () => {
    // Prepare
    const prompt = 'Tell me about streaming answers in a chat application';

    // Act
    await send(page, prompt);

    // Assess: sample the answer until the turn completes; it must be seen growing while streaming.
    const lengthsWhileStreaming: number[] = [];
    let shot = false;
    for (;;) {
      const { status, length } = await lastTurn(page).evaluate((turn) => ({
        status: turn.getAttribute('data-status'),
        length: turn.querySelector('.answer')?.textContent?.length ?? 0,
      }));
      if (status === 'completed') break;
      if (status === 'streaming' && length > 0) {
        if (lengthsWhileStreaming.at(-1) !== length) lengthsWhileStreaming.push(length);
        if (!shot && lengthsWhileStreaming.length >= 3) {
          await screenshot(page, 'desktop-streaming');
          shot = true;
        }
      }
      expect(status === 'failed' || status === 'interrupted').toBe(false);
      await page.waitForTimeout(50);
    }
    expect(lengthsWhileStreaming.length).toBeGreaterThanOrEqual(2);
    expect(lengthsWhileStreaming).toEqual([...lengthsWhileStreaming].sort((a, b) => a - b));
    const finalAnswer = await lastTurn(page).locator('.answer').textContent();
    expect(finalAnswer?.length).toBeGreaterThan(lengthsWhileStreaming[0] ?? 0);
    await expect(page.getByLabel('Message').inputValue()).resolves.toBe('');
    expect(page.url()).toMatch(/#\/c\/[A-Za-z0-9_-]+$/);
  });

  it('keeps the session and shows the conversation from history after a reload', async () => {
    // Prepare
    const answerBefore = await lastTurn(page).locator('.answer').textContent();

    // Act
    await page.reload();

    // Assess
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await waitForStatus(page, 'completed');
    await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(
      'Tell me about streaming answers in a chat application',
    );
    await expect(lastTurn(page).locator('.answer').textContent()).resolves.toBe(answerBefore);
    const sidebar = page.getByRole('navigation', { name: 'Conversations' });
    await sidebar.getByRole('link', { name: 'Tell me about streaming answers' }).waitFor();
    await screenshot(page, 'desktop-history');
  });

  it('starts a new chat, and both conversations are listed newest first', async () => {
    // Act
    await page.getByRole('button', { name: 'New chat' }).click();
    await send(page, 'Second conversation about gardening tomatoes');
    await waitForStatus(page, 'completed');

    // Assess
    await expect(page.locator('#turns > .turn').count()).resolves.toBe(1);
    const titles = await page.locator('#conversation-list .conversation-title').allTextContents();
    expect(titles.slice(0, 2)).toEqual([
      'Second conversation about gardening tomatoes',
      'Tell me about streaming answers in a chat application',
    ]);
    await page.getByRole('link', { name: 'Tell me about streaming answers' }).click();
    await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(
      'Tell me about streaming answers in a chat application',
    );
  });

  it('stops a streaming answer with the Stop button and keeps it marked as stopped', async () => {
    // Prepare
    await page.getByRole('button', { name: 'New chat' }).click();
    await send(page, 'Write a long essay about rivers and mountains');
    await page.locator('#turns > .turn:last-child[data-status="streaming"] .answer:not(:empty)').waitFor();

    // Act
    await page.getByRole('button', { name: 'Stop' }).click();

    // Assess: the stream ends with status stopped, shown as such, with a retry.
    await waitForStatus(page, 'stopped', 15_000);
    await lastTurn(page).getByText('Stopped', { exact: true }).waitFor();
    expect(await lastTurn(page).getByRole('button', { name: 'Retry', exact: true }).isVisible()).toBe(true);
    await screenshot(page, 'desktop-stopped');
    await page.getByRole('button', { name: 'Send' }).waitFor();
    // …and the server stored it as stopped: it still is after a reload.
    await page.reload();
    await waitForStatus(page, 'stopped', 15_000);
    await lastTurn(page).getByText('Stopped', { exact: true }).waitFor();
  });

  it('offers a retry on a stopped turn that sends the prompt again', async () => {
    // Act
    await lastTurn(page).getByRole('button', { name: 'Retry', exact: true }).click();

    // Assess
    await waitForStatus(page, 'completed');
    const prompts = await page.locator('#turns .user-bubble').allTextContents();
    expect(prompts).toEqual([
      'Write a long essay about rivers and mountains',
      'Write a long essay about rivers and mountains',
    ]);
  });

  it('shows a prompt containing HTML and script literally, and runs none of it', async () => {
    // Prepare
    const attack =
      '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> **bold** [x](javascript:alert(1))';
    await page.getByRole('button', { name: 'New chat' }).click();

    // Act
    await send(page, attack);
    await waitForStatus(page, 'completed');

    // Assess
    await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(attack);
    await expect(page.locator('#conversation-list .conversation-title').first().textContent()).resolves.toBe(
      titleFromPrompt(attack),
    );
    await expect(
      page.locator('#turns img, #turns script, #turns a[href^="javascript"]').count(),
    ).resolves.toBe(0);
    await expect(page.evaluate(() => Reflect.get(window, '__xss'))).resolves.toBeUndefined();
    // The history path renders it the same way.
    await page.reload();
    await waitForStatus(page, 'completed');
    await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(attack);
    await expect(page.locator('#turns img, #turns script').count()).resolves.toBe(0);
    await expect(page.evaluate(() => Reflect.get(window, '__xss'))).resolves.toBeUndefined();
  });

  it('says when the network fails and gives the prompt back', async () => {
    // Prepare
    await page.route(`${stack.url}/chat`, (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'New chat' }).click();

    // Act
    await send(page, 'This one will not get through');

    // Assess
    await lastTurn(page)
      .getByText(/Network error/)
      .waitFor();
    await expect(page.getByLabel('Message').inputValue()).resolves.toBe('This one will not get through');
    await page.unroute(`${stack.url}/chat`);
    await page.getByLabel('Message').fill('');
  });

  it('says when the message quota is used up', async () => {
    // Prepare
    await page.route(`${stack.url}/chat`, (route) =>
      route.fulfill({
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '120' },
        body: JSON.stringify({ error: { code: 'rate_limited', message: 'Quota exceeded.' } }),
      }),
    );
    await page.getByRole('button', { name: 'New chat' }).click();

    // Act
    await send(page, 'One more question please');

    // Assess
    await lastTurn(page)
      .getByText("You've reached your message limit for now. You can send again in 2 minutes.")
      .waitFor();
    await expect(page.getByLabel('Message').inputValue()).resolves.toBe('One more question please');
    await page.unroute(`${stack.url}/chat`);
  });

  it('refreshes a rejected ID token once with the refresh token and carries on', async () => {
    // Prepare: the stored ID token's signature no longer verifies (as if it had expired server-side).
    const stored = await page.evaluate(() => localStorage.getItem('chat.session'));
    const session: { idToken: string } = JSON.parse(stored ?? '{}');
    const [header, payload] = session.idToken.split('.');
    const broken = `${header}.${payload}.c2lnbmF0dXJl`;
    await page.evaluate(
      ([value]) => localStorage.setItem('chat.session', value ?? ''),
      [JSON.stringify({ ...session, idToken: broken })],
    );
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/chat/conversations') statuses.push(response.status());
    });

    // Act
    await page.reload();

    // Assess: a 401, then the same call succeeded with a fresh token, which was stored.
    await page.locator('#conversation-list a').first().waitFor();
    expect(statuses).toContain(401);
    expect(statuses.at(-1)).toBe(200);
    const refreshed: { idToken: string } = JSON.parse(
      (await page.evaluate(() => localStorage.getItem('chat.session'))) ?? '{}',
    );
    expect(refreshed.idToken).not.toBe(broken);
    expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(true);
  });

  it('pages the conversation list with next_cursor as the sidebar scrolls', async () => {
    // Prepare: many conversations, served in two pages by GET /chat/conversations.
    const entry = (page: number, index: number) => {
      const at = new Date(Date.UTC(2026, 0, 2 - page, 23 - index)).toISOString();
      return {
        id: `c${page}-${index}`,
        title: `Page ${page} conversation ${index}`,
        created_at: at,
        updated_at: at,
        turns: 1,
      };
    };
    const cursors: (string | null)[] = [];
    await page.route(
      (url) => url.pathname === '/chat/conversations',
      (route) => {
        const cursor = new URL(route.request().url()).searchParams.get('cursor');
        cursors.push(cursor);
        const pageNumber = cursor === 'page-2' ? 2 : 1;
        const conversations = Array.from({ length: 20 }, (_, index) => entry(pageNumber, index));
        return route.fulfill({
          json: pageNumber === 1 ? { conversations, next_cursor: 'page-2' } : { conversations },
        });
      },
    );
    await page.reload();
    await page.getByRole('link', { name: 'Page 1 conversation 19' }).waitFor();
    expect(cursors).toEqual([null]);

    // Act
    await page.locator('#conversations').evaluate((nav) => nav.scrollTo(0, nav.scrollHeight));

    // Assess
    await page.getByRole('link', { name: 'Page 2 conversation 19' }).waitFor();
    expect(cursors).toEqual([null, 'page-2']);
    const titles = await page.locator('#conversation-list .conversation-title').allTextContents();
    expect(titles.indexOf('Page 1 conversation 0')).toBeLessThan(titles.indexOf('Page 2 conversation 0'));
    await page.unroute((url) => url.pathname === '/chat/conversations');
  });

  it('logs out and forgets the session', async () => {
    // Act
    await page.getByRole('button', { name: 'Log out' }).click();

    // Assess
    await page.getByLabel('Email').waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(false);
  });
});
