import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_SECRET,
  FakeGraph,
  PHONE_ID,
  VERIFY_TOKEN,
  WA_TOKEN,
  WABA_ID,
} from "../../../hub/test/meta/fake-graph.js";
import { waMessage } from "../../../hub/test/meta/payloads.js";
import { newPage, screenshots, signInAsAdmin, startWorld, type World } from "./harness.js";

describe("the composer follows the channel: WhatsApp's reply window", () => {
  let world: World;
  let graph: FakeGraph;
  beforeAll(async () => {
    graph = await FakeGraph.start();
    world = await startWorld({ OPENLINES_BASEURL_WHATSAPP_GRAPH: graph.url });
  });
  afterAll(async () => {
    await world?.close();
    await graph?.close();
  });

  it("connects WhatsApp through the generated form, and once the 24 h window has closed offers a template instead of a free reply", async () => {
    const shot = screenshots("whatsapp-window");
    const { page, context } = await newPage(world);
    await signInAsAdmin(page, world);
    await page.goto(`${world.server.url}/#/admin`);
    await page.getByRole("button", { name: "Connect a channel" }).click();
    await page.getByRole("radio", { name: /WhatsApp/ }).check();
    await page.getByRole("button", { name: "Next" }).click();
    const field = (key: string) => page.locator(`#s-whatsapp-${key}`);
    await field("phoneNumberId").fill(PHONE_ID);
    await field("accessToken").fill(WA_TOKEN);
    await field("businessAccountId").fill(WABA_ID);
    await field("appSecret").fill(APP_SECRET);
    await field("verifyToken").fill(VERIFY_TOKEN);
    expect(await field("graphVersion").inputValue()).toMatch(/^v\d+\.\d+$/); // the schema's default
    await shot(page, "settings");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.getByText(/The connection works/).waitFor();
    await page.getByRole("button", { name: "Activate" }).click();
    await page.getByRole("heading", { name: "Connected" }).waitFor();
    const webhookUrl = await page.getByLabel("Webhook URL").inputValue();

    // A customer writes on WhatsApp…
    const res = await FakeGraph.post(
      webhookUrl,
      JSON.stringify(
        waMessage({ id: "wamid.HBgLMTY1MDU1NTEyMzQ", type: "text", text: { body: "Any news on ticket 7?" } }),
      ),
    );
    expect(res.status).toBe(200);
    await page.goto(`${world.server.url}/#/`);
    const item = page.locator(".chat-item").filter({ has: page.getByRole("img", { name: "WhatsApp" }) });
    await item.waitFor();
    await item.click();
    await page.getByText("Any news on ticket 7?").waitFor();
    const chatId = await page.evaluate(() => decodeURIComponent(location.hash.split("/").pop() ?? ""));

    // …and last did so two days ago: the window has closed.
    await world.server.portal.ctx.database.db
      .updateTable("chat")
      .set({ last_inbound_ms: Date.now() - 48 * 3600_000 })
      .where("id", "=", chatId)
      .execute();
    await page.reload();
    await page.getByText(/reply window \(24 h after the customer's last message\) has closed/).waitFor();
    expect(await page.getByRole("checkbox", { name: "Internal note" }).isDisabled()).toBe(true);
    expect(await page.getByRole("checkbox", { name: "Internal note" }).isChecked()).toBe(true);
    await shot(page, "window-closed");

    // A template goes out instead.
    await page.getByLabel("Template name").fill("ticket_update");
    await page.getByLabel("Language").fill("en_US");
    await page.getByLabel("Parameters (one per line)").fill("7\nresolved");
    await page.getByRole("button", { name: "Send template" }).click();
    await page.locator('.message.out .mark[data-status="sent"]').waitFor();
    const sent = graph.callsTo("POST", `${PHONE_ID}/messages`).at(-1);
    expect(sent?.body).toMatchObject({ type: "template", template: { name: "ticket_update" } });
    await shot(page, "template-sent");
    await context.close();
  });
});
