import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  focusedId,
  newPage,
  screenshots,
  signInAsAdmin,
  startWorld,
  unlabelledControls,
  type World,
} from "./harness.js";

describe("workspace in a real browser: a visitor and an operator talk through the demo live chat", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  it("shows the visitor's conversation live, carries a text and a file reply, marks it read, and closes it with a rating question", async () => {
    const shot = screenshots("live-chat");
    const operator = await newPage(world, { notifications: true });
    const op = operator.page;

    // Sign-in is keyboard-reachable and labelled.
    await op.goto(world.server.url);
    await op.getByLabel("Email").waitFor();
    expect(await focusedId(op)).toBe("email");
    await op.keyboard.press("Tab");
    expect(await focusedId(op)).toBe("password");
    await op.keyboard.press("Tab");
    expect(await focusedId(op)).toBe("Sign in");
    expect(await unlabelledControls(op)).toEqual([]);
    await signInAsAdmin(op, world, shot);
    await shot(op, "empty-workspace");

    // The visitor writes on the demo page.
    const visitor = await newPage(world);
    const vis = visitor.page;
    await vis.goto(`${world.server.url}/demo`);
    await vis.getByRole("button", { name: "Chat with us" }).click();
    await vis.getByLabel("Your message").fill("Hello, where is my order 42?");
    await vis.getByLabel("Your message").press("Enter");
    await vis.getByText("✓ sent").or(vis.getByText("✓✓ delivered")).first().waitFor();
    await shot(vis, "visitor-wrote");

    // The operator sees it appear without reloading, and opens it.
    const item = op.locator(".chat-item").first();
    await item.waitFor();
    await shot(op, "conversation-appeared");
    await item.click();
    await op.getByText("Hello, where is my order 42?").waitFor();
    expect(await op.locator("ol.messages").getAttribute("aria-live")).toBe("polite");

    // The composer is reachable by keyboard and every control has a label.
    await op.getByRole("textbox", { name: "Reply", exact: true }).focus();
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      await op.keyboard.press("Tab");
      order.push(await focusedId(op));
    }
    expect(order).toEqual(["Emoji", "Quick answers", "Attach a file", "reply-note", "Send"]);
    expect(await unlabelledControls(op)).toEqual([]);

    // A text reply (Enter sends; it takes the waiting session), then a file.
    const reply = op.getByRole("textbox", { name: "Reply", exact: true });
    await reply.fill("Let me check that for you 🙂");
    await reply.press("Enter");
    await op.locator(".message.out").filter({ hasText: "Let me check that for you" }).waitFor();
    await op.locator("#reply-files").setInputFiles({
      name: "invoice-42.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("Order 42: shipped on Monday.\n"),
    });
    await op.locator(".attached").getByText("invoice-42.txt").waitFor();
    await reply.fill("Here is your invoice.");
    await reply.press("Enter");
    await op.locator(".message.out a.file").filter({ hasText: "invoice-42.txt" }).waitFor();
    await shot(op, "operator-replied");

    // The visitor sees the reply and the file link; the open panel reads them.
    await vis.getByText("Let me check that for you 🙂").waitFor();
    const link = vis.getByRole("link", { name: /invoice-42\.txt/ });
    await link.waitFor();
    expect(await link.getAttribute("href")).toMatch(/^http/);
    await shot(vis, "visitor-sees-reply");

    // The operator sees "read" once the visitor has read them.
    await op.locator('.message.out .mark[data-status="read"]').first().waitFor();
    await op
      .locator(".message.out")
      .filter({ hasText: "Here is your invoice." })
      .locator('.mark[data-status="read"]')
      .waitFor();
    await shot(op, "read-marks");

    // The operator closes it; the visitor is asked for a rating.
    await op.getByRole("button", { name: "Close", exact: true }).click();
    await op.getByTestId("session-state").filter({ hasText: "closed" }).waitFor();
    await vis.getByText(/Please rate this conversation/).waitFor();
    await shot(op, "closed");
    await shot(vis, "visitor-asked-rating");
    await operator.context.close();
    await visitor.context.close();
  });
});
