import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pino from "pino";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { type AllInOne, startAllInOne } from "../../../cli/src/all-in-one.js";

const WEB = resolve(import.meta.dirname, "../..");
const SHOTS = resolve(import.meta.dirname, "../../../../test-results/e2e");
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * `npm test` builds the workspace before vitest runs; a test run on its own (`npx vitest run
 * packages/web`) builds it here when `dist/` is missing or older than the sources. Test files run
 * in parallel: the check and the build happen under a lock, so only the first one builds.
 */
export function ensureBuilt(): void {
  const stale =
    '[ ! -f dist/index.html ] || [ -n "$(find src index.html vite.config.ts -newer dist/index.html | head -n 1)" ]';
  execFileSync(
    "flock",
    [join(tmpdir(), "openlines-web-build.lock"), "sh", "-c", `if ${stale}; then npm run build; fi`],
    { cwd: WEB, stdio: "ignore" },
  );
}

export interface World {
  server: AllInOne;
  browser: Browser;
  dataDir: string;
  /** The admin's password once the one-time one has been changed. */
  adminPassword?: string;
  close(): Promise<void>;
}

/** The real all-in-one server on a free port with a temp data folder, and a headless Chromium. */
export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  ensureBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), "openlines-e2e-"));
  const server = await startAllInOne({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    env: { LOG_LEVEL: "warn", ...env },
    log: pino({ level: "warn" }),
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // launch() gives every run a fresh temporary profile (user data dir) of its own.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    server,
    browser,
    dataDir,
    async close() {
      await browser.close().catch(() => {});
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function newPage(
  world: World,
  o: { notifications?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await world.browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (o.notifications) await context.grantPermissions(["notifications"], { origin: world.server.url });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

/** Saves `test-results/e2e/<test>-<nn>-<step>.png` for a person to look at. */
export function screenshots(test: string) {
  mkdirSync(SHOTS, { recursive: true });
  let n = 0;
  return async (page: Page, step: string) => {
    n += 1;
    await page.screenshot({ path: join(SHOTS, `${test}-${String(n).padStart(2, "0")}-${step}.png`) });
  };
}

/** The id of the focused element (inside a shadow root too), to follow keyboard focus. */
export async function focusedId(page: Page): Promise<string> {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    return el ? el.id || el.getAttribute("aria-label") || el.textContent?.trim() || el.tagName : "";
  });
}

/** Form controls on the page that have no label a screen reader can announce. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>("input, select, textarea, button"))) {
      if (el instanceof HTMLInputElement && el.type === "hidden") continue;
      const labelled =
        (el as HTMLInputElement).labels?.length ||
        el.getAttribute("aria-label") ||
        el.getAttribute("aria-labelledby") ||
        (el.tagName === "BUTTON" && el.textContent?.trim());
      if (!labelled) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

/**
 * Signs in as the first admin: the first time with the one-time password the server printed, and
 * then chooses a new one as the portal requires; later with that new password.
 */
export async function signInAsAdmin(page: Page, world: World, shot?: (p: Page, s: string) => Promise<void>) {
  const admin = world.server.admin!;
  world.adminPassword ??= admin.password;
  await page.goto(world.server.url);
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(world.adminPassword);
  if (shot) await shot(page, "sign-in");
  await page.getByLabel("Password").press("Enter");
  const workspace = page.getByRole("tab", { name: /Queue/ });
  const change = page.getByLabel("One-time password");
  await workspace.or(change).waitFor();
  if (await change.isVisible()) {
    const next = "a new password 123";
    await change.fill(world.adminPassword);
    await page.getByLabel("New password", { exact: true }).fill(next);
    await page.getByLabel("Repeat the new password").fill(next);
    if (shot) await shot(page, "choose-password");
    await page.getByRole("button", { name: "Save password" }).click();
    world.adminPassword = next;
    await workspace.waitFor();
  }
}
