import { existsSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@openlines/store/testing";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLivechat } from "../../src/connectors/livechat/index.js";
import { type Harness, startHarness } from "./harness.js";

const CHROMIUM = process.env.OPENLINES_CHROMIUM ?? "/usr/bin/chromium";

/**
 * The widget in a real browser (Debian's chromium, as CI installs it), embedded with one script
 * tag in a page of another origin: keyboard only, a file upload with its CORS preflight, the
 * operator's reply announced in the live region.
 */
describe("the widget in a real browser", () => {
  let h: Harness;
  let database: TestDatabase;
  let line: ReturnType<Harness["addLine"]>;
  let site: Server;
  let siteUrl = "";
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`No chromium at ${CHROMIUM}: apt-get install chromium, or set OPENLINES_CHROMIUM.`);
    database = await createTestDatabase("sqlite");
    h = await startHarness(createLivechat({ uploadDir: mkdtempSync(join(tmpdir(), "lc-browser-")) }), {
      url: database.url,
    });
    // the company's site: another origin than the hub
    site = createServer((_req, res) => {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(
        `<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Shop</h1>` +
          `<script src="${h.base}/livechat/widget.js?line=b1" async></script></body></html>`,
      );
    });
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    line = h.addLine("b1", { allowedOrigins: [siteUrl], title: "Ask us" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    // beforeAll may have failed before the site existed: do not wait for a close that never comes.
    await new Promise<void>((r) => (site ? site.close(() => r()) : r()));
    await h?.close();
    await database?.drop();
  });

  it("is used with the keyboard alone: open, write, attach, send, hear the reply, close", async () => {
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${siteUrl}/pricing`);
    const button = page.getByRole("button", { name: "Ask us" });
    await button.waitFor();
    await page.keyboard.press("Tab");
    await expect.poll(() => button.evaluate((b) => b.matches(":focus"))).toBe(true);
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Ask us" });
    await dialog.waitFor();
    const input = page.getByLabel("Your message");
    await expect.poll(() => input.evaluate((e) => e.matches(":focus"))).toBe(true);

    await page
      .locator(".olc-file")
      .setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: Buffer.from("png!") });
    await expect.poll(() => page.getByRole("button", { name: /1 attached/ }).count()).toBe(1);
    await page.keyboard.type("Here is the damage");
    await page.keyboard.press("Enter");

    const [m] = await h.waitEvents("messages");
    expect(m.data.message.text).toBe("Here is the damage");
    expect(m.data.message.files).toEqual([
      expect.objectContaining({ name: "photo.png", type: "image/png", kind: "image" }),
    ]);
    expect(m.data.user.pageUrl).toBe(`${siteUrl}/pricing`);
    await page.getByText("✓ sent").waitFor();

    await line.connector.send({
      id: "op-1",
      chat: { id: m.data.chat.id },
      text: "Sorry! A [b]new one[/b] is on its way.",
      files: [],
      connector: "livechat",
    });
    const live = page.locator('[aria-live="polite"]').first();
    await expect.poll(() => live.textContent()).toContain("Sorry! A new one is on its way.");
    await h.waitFor((e) => e.type === "readStatus"); // the panel is open: read at once
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.isHidden()).toBe(true);
    await expect.poll(() => button.evaluate((b) => b.matches(":focus"))).toBe(true);
    expect(errors).toEqual([]);
  });
});
