import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpawnedStack, spawnLocalStack } from '../support/local-stack';
import {
  lastTurn,
  launchBrowser,
  screenshot,
  send,
  seriousViolations,
  type TestBrowser,
  waitForStatus,
} from './support/browser';

/**
 * Must-show 5 of issue 12: a new user signs up in the web client with the code the local stack prints,
 * is logged in, and chats; plus the other account paths (a wrong code, an unconfirmed log-in with a new
 * code, a forgotten password done with the keyboard alone). The codes are read from the stack's output,
 * as a person would read them from the terminal.
 */
describe('accounts in the web client', () => {
  let dataDir: string;
  let stack: SpawnedStack;
  let browser: TestBrowser;
  let page: Page;
  const PASSWORD = 'Carol-Signs-Up-2026!';
  const NEW_PASSWORD = 'Carol-Resets-2026!';

  /** The newest code the stack printed for `email` after `seen` earlier ones. */
  async function printedCode(kind: 'Verification' | 'Password reset', email: string, seen = 0) {
    const pattern = new RegExp(`^${kind} code for ${email.replace(/[.]/g, '\\.')}: (\\d{6})$`, 'gm');
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const codes = [...stack.output().matchAll(pattern)].map((match) => match[1] ?? '');
      if (codes.length > seen) return { code: codes.at(-1) ?? '', count: codes.length };
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
    }
    throw new Error(`no ${kind} code for ${email} in the stack's output:\n${stack.output()}`);
  }

  /** Every field of the account screen showing (one at a time, so labels are unique). */
  const card = () => page.locator('form.login-card:visible');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chat-signup-'));
    [stack, browser] = await Promise.all([
      spawnLocalStack({ dataDir, env: { LOCAL_FLEET_ANSWER_TOKENS: '12', LOCAL_FLEET_TTFT_MS: '20' } }),
      launchBrowser(),
    ]);
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('signs a new user up with the printed code, logs them in on the free tier, and chats', async () => {
    // Prepare
    await page.goto(stack.url);
    await page.getByRole('button', { name: 'Create an account' }).click();
    await card().getByLabel('Email').fill('carol@example.com');

    // Act: a weak password is refused with the pool's rule, before any call.
    await card().getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(
      page.getByRole('alert').filter({ hasText: 'at least 12 characters' }).textContent(),
    ).resolves.toContain('a digit');
    await screenshot(page, 'desktop-signup-weak-password');
    expect(await seriousViolations(page)).toEqual([]);
    await card().getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    await screenshot(page, 'desktop-signup-confirm');
    expect(await seriousViolations(page)).toEqual([]);
    const { code } = await printedCode('Verification', 'carol@example.com');
    await page.getByLabel('Verification code').fill(code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('alert').filter({ hasText: "That code isn't right" }).waitFor();
    await page.getByLabel('Verification code').fill(code);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await send(page, 'Hello from a brand-new account');
    await waitForStatus(page, 'completed');

    // Assess
    await expect(page.locator('#account-email').textContent()).resolves.toBe('carol@example.com');
    await expect(page.locator('#tier-badge').textContent()).resolves.toBe('Free');
    expect((await lastTurn(page).locator('.answer').textContent())?.length).toBeGreaterThan(0);
    expect(stack.output()).not.toContain(PASSWORD);
  });

  it('refuses an email that already has an account', async () => {
    // Prepare
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Create an account' }).click();

    // Act
    await card().getByLabel('Email').fill('alice@example.com');
    await card().getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();

    // Assess
    await page.getByRole('alert').filter({ hasText: 'already exists' }).waitFor();
    await page.getByRole('button', { name: 'Back to log in' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  it('offers the confirm screen to an unconfirmed user at log-in, with a new code on request', async () => {
    // Prepare: dave signs up and leaves before confirming.
    await page.getByRole('button', { name: 'Create an account' }).click();
    await card().getByLabel('Email').fill('dave@example.com');
    await card().getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    const first = await printedCode('Verification', 'dave@example.com');
    await page.getByRole('button', { name: 'Back to log in' }).click();

    // Act
    await card().getByLabel('Email').fill('dave@example.com');
    await card().getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('status').filter({ hasText: "isn't confirmed yet" }).waitFor();
    await page.getByRole('button', { name: 'Send a new code' }).click();
    await page.getByRole('status').filter({ hasText: 'We sent a new code' }).waitFor();
    const resent = await printedCode('Verification', 'dave@example.com', first.count);
    await page.getByLabel('Verification code').fill(resent.code);
    await page.getByRole('button', { name: 'Confirm' }).click();

    // Assess
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await expect(page.locator('#account-email').textContent()).resolves.toBe('dave@example.com');
  });

  it('resets a forgotten password with the keyboard alone, then logs in with it', async () => {
    // Prepare
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();

    // Act: focus starts in Email; "Forgot password?" is three Tabs on (password, Log in).
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('carol@example.com');
    for (let tab = 0; tab < 3; tab += 1) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Forgot password?');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    expect(await card().getByLabel('Email').inputValue()).toBe('carol@example.com');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await screenshot(page, 'desktop-reset-password');
    expect(await seriousViolations(page)).toEqual([]);
    const { code } = await printedCode('Password reset', 'carol@example.com');
    await page.keyboard.type(code);
    await page.keyboard.press('Tab');
    await page.keyboard.type(NEW_PASSWORD);
    await page.keyboard.press('Enter');

    // Assess
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await expect(page.locator('#account-email').textContent()).resolves.toBe('carol@example.com');
    expect(stack.output()).not.toContain(NEW_PASSWORD);
  });

  it('on a phone: signs up with the printed code, then resets the password with a code, with clear errors', async () => {
    // Prepare
    const phone = await launchBrowser('phone');
    const original = page;
    try {
      page = await phone.newPage();
      await page.goto(stack.url);
      await page.getByRole('button', { name: 'Create an account' }).tap();
      await page.getByRole('heading', { name: 'Create your account' }).waitFor();
      await screenshot(page, 'phone-signup');
      expect(await seriousViolations(page)).toEqual([]);

      // Act: sign up → the printed code → logged in on the free tier.
      await card().getByLabel('Email').fill('erin@example.com');
      await card().getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).tap();
      await page.getByRole('heading', { name: 'Check your email' }).waitFor();
      await screenshot(page, 'phone-signup-confirm');
      expect(await seriousViolations(page)).toEqual([]);
      const { code } = await printedCode('Verification', 'erin@example.com');
      await page.getByLabel('Verification code').fill(code);
      await page.getByRole('button', { name: 'Confirm' }).tap();
      await page.getByRole('textbox', { name: 'Message' }).waitFor();
      await expect(page.locator('#tier-badge').textContent()).resolves.toBe('Free');
      await expect(page.locator('#account-email').textContent()).resolves.toBe('erin@example.com');

      // …then log out (from the drawer) and reset the forgotten password.
      await page.getByRole('button', { name: 'Open sidebar' }).tap();
      await page.getByRole('button', { name: 'Log out' }).tap();
      await page.getByRole('button', { name: 'Forgot password?' }).tap();
      await card().getByLabel('Email').fill('erin@example.com');
      await page.getByRole('button', { name: 'Send code' }).tap();
      await page.getByRole('heading', { name: 'Set a new password' }).waitFor();
      const reset = await printedCode('Password reset', 'erin@example.com');
      await page.getByLabel('Reset code').fill(reset.code === '000000' ? '111111' : '000000');
      await card().getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set password and log in' }).tap();
      await page.getByRole('alert').filter({ hasText: "That code isn't right" }).waitFor();
      await screenshot(page, 'phone-reset-wrong-code');
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByLabel('Reset code').fill(reset.code);
      await page.getByRole('button', { name: 'Set password and log in' }).tap();

      // Assess
      await page.getByRole('textbox', { name: 'Message' }).waitFor();
      await expect(page.locator('#account-email').textContent()).resolves.toBe('erin@example.com');
      expect(stack.output()).not.toContain(NEW_PASSWORD);
    } finally {
      page = original;
      await phone.close();
    }
  });
});
