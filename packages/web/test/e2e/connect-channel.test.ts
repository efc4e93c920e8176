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
    await context.close();
  });
});
