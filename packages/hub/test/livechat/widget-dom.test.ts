import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "@openlines/store/testing";
import { Window } from "happy-dom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLivechat } from "../../src/connectors/livechat/index.js";
import { until } from "../support/hub-harness.js";
import { type Harness, startHarness } from "./harness.js";

const PAGE = "http://shop.example.com/pricing";

/**
 * The widget script run by a headless DOM (happy-dom: real fetch with CORS, real WebSocket,
 * shadow DOM, localStorage) on a page of an allowed site, against the live chat's routes.
 */
describe("the widget in a browser page", () => {
  let h: Harness;
  let database: TestDatabase;
  let line: ReturnType<Harness["addLine"]>;
  const windows: Window[] = [];

  const page = async (storage?: Record<string, string>) => {
    const window = new Window({
      url: PAGE,
      settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true },
    });
    windows.push(window);
    for (const [k, v] of Object.entries(storage ?? {})) window.localStorage.setItem(k, v);
    window.document.write(
      `<!doctype html><html><body><h1>Shop</h1><script src="${h.base}/livechat/widget.js?line=w1" async></script></body></html>`,
    );
    const shadow = await until(() => window.document.querySelector(".olc")?.shadowRoot ?? undefined);
    const $ = (s: string) => shadow.querySelector(s) as any;
    await until(() => $(".olc-b").textContent === "Ask us");
    return {
      window,
      $,
      shadow,
      items: () => [...shadow.querySelectorAll(".olc-m")].map((e: any) => e.textContent),
    };
  };

  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    h = await startHarness(createLivechat({ uploadDir: mkdtempSync(join(tmpdir(), "lc-dom-")) }), {
      url: database.url,
    });
    line = h.addLine("w1", { allowedOrigins: ["http://shop.example.com"], title: "Ask us", greeting: "Hi!" });
  });
  afterAll(async () => {
    for (const w of windows) {
      await w.happyDOM.abort();
      await w.happyDOM.close();
    }
    await h?.close();
    await database?.drop();
  });

  it("opens from its button, sends the visitor's message, shows the reply with marks, and keeps the visitor on reload", async () => {
    const { window, $, items } = await page();
    const button = $(".olc-b");
    expect(button.getAttribute("aria-expanded")).toBe("false");
    expect($(".olc-l").getAttribute("aria-live")).toBe("polite");
    expect($('label[for="olc-text"]').textContent).toBe("Your message");

    button.click();
    expect($(".olc-p").hidden).toBe(false);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    const stored = await until(() => window.localStorage.getItem("openlines.livechat.w1") ?? undefined);
    const { visitorId, token } = JSON.parse(stored);
    expect(token).toMatch(/^v1\./);

    $("#olc-text").value = "Do you ship to Norway?";
    $(".olc-send").click();
    const [m] = await h.waitEvents("messages");
    expect(m.data.user).toMatchObject({ id: visitorId, pageUrl: PAGE });
    expect(m.data.message.text).toBe("Do you ship to Norway?");
    await until(() => items().some((t) => t.includes("Do you ship to Norway?") && t.includes("✓ sent")));

    const { platformMessageId } = await line.connector.send({
      id: "op-1",
      chat: { id: visitorId },
      text: "Yes, [b]we do[/b].",
      files: [],
      connector: "livechat",
    });
    await until(() => items().some((t) => t.includes("Operator: Yes, we do.")));
    // the panel is open: the widget reports the reply as read
    const read = await h.waitFor((e) => e.type === "readStatus");
    expect(read.data).toMatchObject({ platformMessageIds: [platformMessageId] });
    await line.connector.markRead?.({ id: visitorId, connector: "livechat" }, []);
    await until(() => items().some((t) => t.includes("Do you ship to Norway?") && t.includes("✓✓ read")));

    // a new page load of the same visitor: same identity, the conversation is back
    const again = await page({ "openlines.livechat.w1": stored });
    await until(() => again.items().length >= 2);
    expect(again.items().join("\n")).toMatch(/Do you ship to Norway\?[\s\S]*Yes, we do\./);
    for (const w of windows) expect(w.happyDOM.virtualConsolePrinter.readAsString()).not.toMatch(/error/i);
  });
});
