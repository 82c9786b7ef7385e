import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium, never a downloaded browser (scripts/ensure-deps.sh installs it). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const NARROW = { width: 390, height: 844 };
export const WIDE = { width: 1280, height: 900 };

/**
 * One person's browser: its own new, empty profile (user-data-dir), so sessions, storage and Web Locks are
 * never shared between the customer and the admin. Every page error and console error is recorded; a test
 * ends with `assertClean()`.
 */
export interface Person {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** Another tab of the same browser (same profile: storage, Web Locks, BroadcastChannel), errors recorded too. */
  newTab(): Promise<Page>;
  /** Fails when the page threw or logged an error (expected refusals, 4xx answers, excepted). */
  assertClean(): void;
  close(): Promise<void>;
}

export async function openPerson(baseUrl: string, name: string): Promise<Person> {
  const profile = mkdtempSync(path.join(tmpdir(), `ecshop-chromium-${name}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    baseURL: baseUrl,
    viewport: WIDE,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
    reducedMotion: 'reduce',
  });
  context.setDefaultTimeout(20_000);
  const errors: string[] = [];
  let tabs = 0;
  const watch = (page: Page, tab: string) => {
    page.on('pageerror', (err) => errors.push(`[${tab}] page error: ${err.stack ?? err.message}`));
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // The browser logs every refused request; a 4xx problem answer is the app working (shown to the user).
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
      errors.push(`[${tab}] console error: ${text} (${msg.location().url})`);
    });
    return page;
  };
  const page = watch(context.pages()[0] ?? (await context.newPage()), name);
  return {
    context,
    page,
    errors,
    newTab: async () => watch(await context.newPage(), `${name} tab ${(tabs += 1) + 1}`),
    assertClean: () => assert.deepEqual(errors, [], 'no uncaught page errors or console errors'),
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go: SCREENSHOT_DIR, or a fresh temp directory (printed so a person can look). */
export function screenshotDir(): string {
  const dir = process.env.SCREENSHOT_DIR ?? mkdtempSync(path.join(tmpdir(), 'ecshop-screens-'));
  mkdirSync(dir, { recursive: true });
  console.log(`screenshots: ${dir}`);
  return dir;
}

/** The current screen at phone width and at desktop width, full page. */
export async function shoot(page: Page, dir: string, name: string): Promise<void> {
  const original = page.viewportSize() ?? WIDE;
  for (const [label, size] of [
    ['narrow', NARROW],
    ['wide', WIDE],
  ] as const) {
    await page.setViewportSize(size);
    // Let layout (and chart.js's resize) settle before the picture.
    await page.waitForTimeout(150);
    await page.screenshot({ path: path.join(dir, `${name}-${label}.png`), fullPage: true });
    // Usable on a phone: nothing makes the page itself scroll sideways (wide tables scroll inside their box).
    const width = await page.evaluate(
      () => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth,
    );
    assert.ok(width <= size.width, `${name} at ${size.width} px is ${width} px wide: something overflows`);
  }
  await page.setViewportSize(original);
}

/** Opens a hash route and waits for its heading. */
export async function go(page: Page, route: string, heading: string | RegExp): Promise<void> {
  await page.goto(`/#${route}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** Waits until the locator's text matches (Playwright-core has no expect; this is its polling equivalent). */
export async function assertText(locator: Locator, expected: string | RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = (
      (await locator
        .first()
        .textContent({ timeout: Math.max(1000, deadline - Date.now()) })
        .catch(() => '')) ?? ''
    ).replace(/\s+/g, ' ');
    if (typeof expected === 'string' ? last.includes(expected) : expected.test(last)) return;
    if (Date.now() > deadline) assert.fail(`expected ${String(expected)} in "${last}"`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Logs in through the form (#/login) and waits for the product list it leads to. */
export async function loginThroughForm(page: Page, email: string, password: string): Promise<void> {
  await go(page, '/login', 'ログイン');
  await page.getByLabel('メールアドレス').fill(email);
  await page.getByLabel('パスワード').fill(password);
  await page.getByRole('button', { name: 'ログイン', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: '商品一覧' }).waitFor();
}

/** The session the SPA keeps in this tab's localStorage (tokens included: tests only), or null. */
export async function storedSession(
  page: Page,
): Promise<{ access_token: string; refresh_token: string; access_expires_at: number; refresh_at?: number } | null> {
  const text = await page.evaluate(() =>
    (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('ec-shop.session'),
  );
  return text ? JSON.parse(text) : null;
}
