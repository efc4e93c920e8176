import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOT, FakeBotApi, TOKEN } from "../../../hub/test/telegram/fake-bot-api.js";
import {
  newPage,
  screenshots,
  signInAsAdmin,
  startWorld,
  unlabelledControls,
  type World,
} from "./harness.js";

describe("admin pages in a real browser: connecting a channel through the wizard", () => {
  let world: World;
  let telegram: FakeBotApi;
  beforeAll(async () => {
    telegram = await FakeBotApi.start();
    world = await startWorld({ OPENLINES_BASEURL_TELEGRAM: telegram.url });
  });
  afterAll(async () => {
    await world?.close();
    await telegram?.close();
  });

  it("connects a Telegram bot to a line: a wrong token fails its check with a clear error, the right one tests, activates and shows the webhook URL", async () => {
    const shot = screenshots("connect-telegram");
    const { page, context } = await newPage(world);
    await signInAsAdmin(page, world);
    await page.getByRole("link", { name: "Administration" }).click();
    await page.getByRole("heading", { name: "Demo" }).waitFor();
    expect(await unlabelledControls(page)).toEqual([]);
    await shot(page, "admin");

    // Step 1: choose the channel.
    await page.getByRole("button", { name: "Connect a channel" }).click();
    await page.getByRole("radio", { name: /Telegram bot/ }).check();
    await shot(page, "choose");
    await page.getByRole("button", { name: "Next" }).click();

    // Step 2: the form generated from the connector's settings schema; a wrong token first.
    const token = page.getByLabel(/Bot token/);
    await token.waitFor();
    expect(await unlabelledControls(page)).toEqual([]);
    await token.fill(`${BOT.id}:AAAAwrongwrongwrongwrongwrongwrong`);
    await shot(page, "settings-wrong-token");
    await page.getByRole("button", { name: "Save settings" }).click();

    // Step 3: the check fails, and says why.
    await page.getByRole("button", { name: "Test connection" }).click();
    const failure = page.getByTestId("test-error");
    await failure.waitFor();
    expect(await failure.textContent()).toMatch(/check failed: .*token/i);
    expect(await page.getByRole("button", { name: "Activate" }).isDisabled()).toBe(true);
    await shot(page, "check-failed");

    // Back, the right token, test, activate.
    await page.getByRole("button", { name: "Back to the settings" }).click();
    await page.getByLabel(/Bot token/).fill(TOKEN);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText(/The connection works/).waitFor();
    await shot(page, "check-passed");
    await page.getByRole("button", { name: "Activate" }).click();
    await page.getByRole("heading", { name: "Connected" }).waitFor();
    expect(await page.getByTestId("connector-status").textContent()).toBe("active");
    const webhookUrl = await page.getByLabel("Webhook URL").inputValue();
    expect(webhookUrl).toMatch(new RegExp(`^${world.server.url}/webhook\\?line=[A-Za-z0-9_-]+$`));
    expect(telegram.webhook.url).toBe(webhookUrl);
    await shot(page, "activated");

    // The line lists the channel as active.
    await page.getByRole("button", { name: "Back to administration" }).click();
    await page
      .locator(".connectors li")
      .filter({ hasText: "Telegram" })
      .filter({ hasText: "active" })
      .waitFor();
    await shot(page, "line-with-telegram");

    // The line's hub queue, and its distribution settings.
    await page.getByRole("button", { name: "Hub queue" }).click();
    const queue = page.locator("table").filter({ has: page.locator("caption", { hasText: "Hub queue" }) });
    await queue.locator("tr").filter({ hasText: "Telegram" }).filter({ hasText: "active" }).waitFor();
    await page.getByLabel("Distribution").selectOption("all");
    await page.getByRole("button", { name: "Save line" }).click();
    await page.getByText("Saved.").waitFor();
    await page.reload();
    expect(await page.getByLabel("Distribution").inputValue()).toBe("all");
    await shot(page, "queue-and-distribution");
    await context.close();
  });

  it("shows a Telegram customer with the channel's icon; a reply the platform refuses shows its reason, retry sends it, the ledger lists both attempts", async () => {
    const shot = screenshots("telegram-chat");
    const { page, context } = await newPage(world);
    await signInAsAdmin(page, world);

    // A customer writes to the bot; Telegram posts the update to the webhook.
    const res = await fetch(telegram.webhook.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-telegram-bot-api-secret-token": telegram.webhook.secret_token ?? "",
      },
      body: JSON.stringify({
        update_id: 900001,
        message: {
          message_id: 11,
          from: { id: 4242, is_bot: false, first_name: "Alice", username: "alice" },
          chat: { id: 4242, type: "private", first_name: "Alice" },
          date: Math.floor(Date.now() / 1000),
          text: "Is the blue kettle in stock?",
        },
      }),
    });
    expect(res.status).toBe(200);
    const item = page.locator(".chat-item").filter({ has: page.getByRole("img", { name: "Telegram" }) });
    await item.waitFor();
    await shot(page, "telegram-conversation");
    await item.click();
    await page.getByText("Is the blue kettle in stock?").waitFor();

    // The platform refuses the reply: the reason and a retry button show.
    telegram.failNext(
      { error_code: 403, description: "Forbidden: bot was blocked by the user" },
      "sendMessage",
    );
    const reply = page.getByRole("textbox", { name: "Reply", exact: true });
    await reply.fill("Yes, we have three left.");
    await reply.press("Enter");
    const message = page.locator(".message.out").filter({ hasText: "Yes, we have three left." });
    await message.locator('.mark[data-status="failed"]').waitFor();
    expect(await message.locator(".failure").textContent()).toMatch(/blocked/);
    await shot(page, "reply-failed");

    // Retry sends it; the ledger shows the failed attempt and the sent one.
    await message.getByRole("button", { name: "Retry" }).click();
    await message.locator('.mark[data-status="sent"]').waitFor();
    await message.getByRole("button", { name: "Delivery details" }).click();
    const ledger = message.locator("table.ledger");
    await ledger.waitFor();
    const rows = await ledger.locator("tbody tr").allTextContents();
    expect(rows.some((r) => r.startsWith("1") && r.includes("failed"))).toBe(true);
    expect(rows.some((r) => r.startsWith("2") && r.includes("sent to platform"))).toBe(true);
    expect(telegram.callsOf("sendMessage").at(-1)?.params.text).toContain("Yes, we have three left.");
    await shot(page, "retried-ledger");
    await context.close();
  });

  it("lists a line whose bot was connected to another line as needing attention, with the way to fix it", async () => {
    const shot = screenshots("attention");
    const { page, context } = await newPage(world);
    await signInAsAdmin(page, world);
    await page.goto(`${world.server.url}/#/admin`);
    await page.getByLabel("New line name").fill("Sales");
    await page.getByRole("button", { name: "Create line" }).click();
    const sales = page.locator("article").filter({ has: page.getByRole("heading", { name: "Sales" }) });
    await sales.getByRole("button", { name: "Connect a channel" }).click();
    await page.getByRole("heading", { name: "Connect a channel to Sales" }).waitFor();
    await page.getByRole("radio", { name: /Telegram bot/ }).check();
    await page.getByRole("button", { name: "Next" }).click();
    await page.getByLabel(/Bot token/).fill(TOKEN);
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText(/The connection works/).waitFor();
    await page.getByRole("button", { name: "Activate" }).click();
    await page.getByRole("heading", { name: "Connected" }).waitFor();

    // The same bot on Sales took it from Demo: Demo needs attention.
    await page.getByRole("button", { name: "Back to administration" }).click();
    const item = page.locator(".attention li").filter({ hasText: "Demo · Telegram" });
    await item.waitFor();
    expect(await item.textContent()).toMatch(/connected to another line/);
    await shot(page, "needs-attention");
    await item.getByRole("button", { name: "Fix Telegram on Demo" }).click();
    await page.getByRole("heading", { name: "Connect a channel to Demo" }).waitFor();
    await page.getByLabel(/Bot token/).waitFor();
    await context.close();
  });
});
