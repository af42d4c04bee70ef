import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';
import {
  fullyReachable,
  lastTurn,
  launchBrowser,
  logInThroughForm,
  PASSWORD,
  screenshot,
  send,
  seriousViolations,
  type TestBrowser,
  waitForStatus,
} from './support/browser';

const BUSY = 'Our AI servers are busy. Please try again shortly.';

/**
 * The overload path end to end. One inference server with two slots (capacity 5: slots + a queue of
 * 3) and a shed threshold of 0.2, so a free prompt may only go to that server while it is empty: premium
 * bob's one stream (started by the test through the API) is enough for every free prompt to be refused
 * with the busy message, by the gate's per-server ceiling. Once bob is done, a free prompt fits again.
 * Free Retry-After is 2 s doubling, capped at 4 s. The heartbeat runs every second.
 */
describe('web client when the AI servers are busy', () => {
  let dataDir: string;
  let stack: SpawnedStack;
  let browser: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chat-web-busy-'));
    [stack, browser] = await Promise.all([
      spawnLocalStack({
        dataDir,
        env: {
          ...UNMETERED_QUOTAS_ENV,
          LOCAL_FLEET_SERVERS: '1',
          LOCAL_FLEET_SLOTS: '2',
          SHED_FREE_AT: '0.2',
          SATURATED_AT: '0.9',
          LOCAL_FLEET_TOKENS_PER_SECOND: '10',
          LOCAL_FLEET_ANSWER_TOKENS: '40',
          LOCAL_FLEET_TTFT_MS: '50',
          HEARTBEAT_INTERVAL_SECONDS: '1',
          FREE_COOLDOWN_SECONDS: '2',
          FREE_RETRY_AFTER_BASE_SECONDS: '2',
          FREE_RETRY_AFTER_CAP_SECONDS: '4',
        },
      }),
      launchBrowser(),
    ]);
    page = await browser.newPage();
    await logInThroughForm(page, stack.url, 'alice@example.com');
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * Bob (premium) takes a slot of the only server. Resolves once his answer streams and a heartbeat has
   * seen it (the same gate counts his prompt at once, but a new cache read must not forget it); `done`
   * resolves when his answer ended.
   */
  async function occupyTheServer(): Promise<{ done: Promise<string> }> {
    const tokens = await login(stack.config, 'bob@example.com', PASSWORD);
    // The fleet may still count the previous answer: bob waits his turn like any client.
    let response: Response | undefined;
    for (let attempt = 0; attempt < 20 && response?.status !== 200; attempt++) {
      if (response) await new Promise((resolve) => setTimeout(resolve, 500));
      response = await fetch(`${stack.url}/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.idToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Keep the only server busy for a while', stream: true }),
      });
      if (response.status !== 200) await response.body?.cancel();
    }
    expect(response?.status).toBe(200);
    const reader = response?.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"content"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`bob's stream ended early: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    // Two heartbeat intervals: the fleet state now shows bob's sequence running.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    const done = (async () => {
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) return text;
        text += decoder.decode(value, { stream: true });
      }
    })();
    return { done };
  }

  it('shows the busy message with a countdown, retries by itself and answers the prompt', async () => {
    // Prepare
    const chatRequests: Request[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/chat')
        chatRequests.push(request);
    });
    const bob = await occupyTheServer();
    const prompt = 'What is the capital of Australia?';

    // Act
    await send(page, prompt);

    // Assess: the exact message and a countdown number.
    await page.getByText(BUSY, { exact: true }).waitFor();
    const countdown = lastTurn(page).locator('.countdown');
    await countdown.waitFor();
    expect(await countdown.textContent()).toMatch(/^[1-9]\d*$/);
    expect(await page.getByRole('button', { name: 'Retry now' }).isVisible()).toBe(true);
    // The card and both its buttons are scrolled into view, above the composer.
    await expect.poll(() => fullyReachable(page, '.notice.busy .primary')).toBe(true);
    expect(await fullyReachable(page, '.notice.busy .ghost')).toBe(true);
    await screenshot(page, 'desktop-busy');
    expect(await seriousViolations(page)).toEqual([]);
    // The prompt is kept on screen while waiting, not lost.
    await expect(lastTurn(page).locator('.user-bubble').textContent()).resolves.toBe(prompt);

    // …then it is answered without anyone retyping it.
    await bob.done;
    await waitForStatus(page, 'completed', 90_000);
    expect((await lastTurn(page).locator('.answer').textContent())?.length).toBeGreaterThan(0);
    expect(await page.getByText(BUSY, { exact: true }).count()).toBe(0);
    await expect(page.locator('#turns > .turn').count()).resolves.toBe(1);

    // Every retry carried the next x-retry-attempt and the same Idempotency-Key.
    expect(chatRequests.length).toBeGreaterThanOrEqual(2);
    const attempts = chatRequests.map((request) => request.headers()['x-retry-attempt']);
    expect(attempts).toEqual(chatRequests.map((_, index) => (index === 0 ? undefined : String(index))));
    const keys = new Set(chatRequests.map((request) => request.headers()['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{32,36}$/);
  });

  it('retries at once with "Retry now", still counting attempts', async () => {
    // Prepare
    const chatRequests: Request[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/chat')
        chatRequests.push(request);
    });
    const bob = await occupyTheServer();
    await send(page, 'And the capital of Canada?');
    await page.getByText(BUSY, { exact: true }).waitFor();
    const before = chatRequests.length;

    // Act
    await page.getByRole('button', { name: 'Retry now' }).click();

    // Assess: a new request went out with the next attempt number (and, bob still streaming, busy again).
    await expect.poll(() => chatRequests.length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(chatRequests[before]?.headers()['x-retry-attempt']).toBe(String(before));
    await bob.done;
    await waitForStatus(page, 'completed', 90_000);
  });

  it('on a phone, scrolls the busy card and its buttons into view below a long conversation', async () => {
    // Prepare: a conversation long enough to scroll, on a phone-sized touch screen.
    const phone = await launchBrowser('phone');
    try {
      const phonePage = await phone.newPage();
      await logInThroughForm(phonePage, stack.url, 'alice@example.com');
      await send(phonePage, 'Show markdown with a table, a list and code for release notes');
      await waitForStatus(phonePage, 'completed', 90_000);
      const bob = await occupyTheServer();

      // Act
      await phonePage.getByLabel('Message').fill('And one more question about it');
      await phonePage.getByRole('button', { name: 'Send' }).tap();

      // Assess: both buttons are on screen and nothing (the composer) covers them.
      await phonePage.getByText(BUSY, { exact: true }).waitFor();
      await expect.poll(() => fullyReachable(phonePage, '.notice.busy .primary')).toBe(true);
      expect(await fullyReachable(phonePage, '.notice.busy .ghost')).toBe(true);
      await screenshot(phonePage, 'phone-busy');
      expect(await seriousViolations(phonePage)).toEqual([]);
      await bob.done;
      await waitForStatus(phonePage, 'completed', 90_000);
    } finally {
      await phone.close();
    }
  });
});
