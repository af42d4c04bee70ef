import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags of the shared engineering notes ("Emulators", Debian Chromium); playwright adds --headless and the fresh --user-data-dir. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

export interface TestBrowser {
  readonly context: BrowserContext;
  readonly size: Size;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** The two sizes every view is tried at: a laptop, and a phone (touch, no hover, on-screen keyboard). */
export type Size = 'desktop' | 'phone';
export const SIZES: readonly Size[] = ['desktop', 'phone'];

export async function launchBrowser(size: Size = 'desktop'): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'chat-browser-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    colorScheme: 'light',
    permissions: ['clipboard-read', 'clipboard-write'],
    acceptDownloads: true,
    ...(size === 'phone'
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 800 } }),
  });
  return {
    context,
    size,
    newPage: async () => {
      const page = await context.newPage();
      // Anything the page logs as an error is part of the failure report.
      page.on('pageerror', (error) => process.stderr.write(`[page error] ${error.message}\n`));
      return page;
    },
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

export const PASSWORD = 'LocalDemo-2026!';

/** Logs in through the page's own form. */
export async function logInThroughForm(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  // The message box: the account menu may be in the closed drawer (phones).
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** The last turn of the open conversation. */
export function lastTurn(page: Page) {
  return page.locator('#turns > .turn').last();
}

export async function send(page: Page, prompt: string): Promise<void> {
  await page.getByLabel('Message').fill(prompt);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Waits until the last turn reached `status` (data-status on the turn element). */
export async function waitForStatus(page: Page, status: string, timeout = 60_000): Promise<void> {
  await page.locator(`#turns > .turn:last-child[data-status="${status}"]`).waitFor({ timeout });
}

export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

let axeSource: string | undefined;

/**
 * axe-core's serious and critical violations on the page as it is now (every rule axe runs by default).
 * axe is evaluated through the DevTools protocol, which the page's CSP does not govern.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= await readFile(join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${axeSource};0`);
  const violations: AxeViolation[] = await page.evaluate(async () => {
    const axe = Reflect.get(window, 'axe') as {
      run(context: Document): Promise<{
        violations: {
          id: string;
          impact: string | null;
          help: string;
          nodes: { target: unknown[] }[];
        }[];
      }>;
    };
    const result = await axe.run(document);
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** What the page put on the clipboard (clipboard-read is granted to the context). */
export function clipboardText(page: Page): Promise<string> {
  return page.evaluate(() => navigator.clipboard.readText());
}

/** Whether `selector`'s centre is on screen and not covered by anything else (the composer, a backdrop). */
export function fullyReachable(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((element) => {
    const box = element.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight || box.left < 0 || box.right > window.innerWidth) {
      return false;
    }
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return hit !== null && (hit === element || element.contains(hit));
  });
}
