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

/** A 1×1 PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

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
    // An image is shown inline, loaded through the operator's file route.
    await op.locator("#reply-files").setInputFiles({ name: "dot.png", mimeType: "image/png", buffer: PNG });
    await op.locator(".attached").getByText("dot.png").waitFor();
    await reply.press("Enter");
    const img = op.locator('.message.out img[alt="dot.png"]');
    await img.waitFor();
    await op.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('.message.out img[alt="dot.png"]');
      return !!el && el.complete && el.naturalWidth === 1;
    });
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

  it("keeps internal notes from the customer, inserts emoji and quick answers by keyboard, edits and deletes a reply, labels the chat, shows typing, and catches up after the stream drops", async () => {
    const shot = screenshots("workspace-tools");
    const { page: op, context: opContext } = await newPage(world);
    await signInAsAdmin(op, world);
    const { page: vis, context: visContext } = await newPage(world);
    await vis.goto(`${world.server.url}/demo`);
    await vis.getByRole("button", { name: "Chat with us" }).click();
    await vis.getByLabel("Your message").fill("Do you ship to Norway?");
    await vis.getByLabel("Your message").press("Enter");
    const item = op.locator(".chat-item").filter({ hasText: "Live chat" }).first();
    await item.waitFor();
    await item.click();
    await op.getByText("Do you ship to Norway?").waitFor();
    const reply = op.getByRole("textbox", { name: "Reply", exact: true });

    // An internal note.
    await op.getByRole("checkbox", { name: "Internal note" }).check();
    await op.getByRole("textbox", { name: "Internal note" }).fill("Asked about Norway twice last year");
    await op.getByRole("textbox", { name: "Internal note" }).press("Enter");
    await op.locator(".message.note").filter({ hasText: "Asked about Norway twice" }).waitFor();
    await op.getByRole("checkbox", { name: "Internal note" }).uncheck();

    // An emoji from the picker, by keyboard only.
    // Shift+Enter breaks the line, Enter sends; the customer sees the operator typing meanwhile.
    await reply.fill("");
    await reply.pressSequentially("Two lines:");
    await vis.getByText("The operator is typing…").waitFor();
    await reply.press("Shift+Enter");
    await reply.pressSequentially("the second one");
    expect(await reply.inputValue()).toBe("Two lines:\nthe second one");
    await reply.press("Enter");
    await vis.getByText(/Two lines:\s*the second one/).waitFor();

    await reply.fill("Yes we do ");
    await reply.focus();
    await op.keyboard.press("Tab");
    await op.keyboard.press("Enter");
    await op.getByRole("button", { name: "grinning face" }).waitFor();
    await op.keyboard.press("ArrowRight");
    await op.keyboard.press("Enter");
    await op.waitForFunction(() => document.activeElement?.id === "reply-text");
    expect(await reply.inputValue()).toBe("Yes we do 😂");
    await shot(op, "emoji-inserted");
    await op.keyboard.press("Enter");
    await vis.getByText("Yes we do 😂").waitFor();

    // A quick answer: saved from the reply box, then inserted.
    await reply.fill("Delivery to Norway takes 3–5 working days.");
    await op.getByRole("button", { name: "Quick answers" }).click();
    await op.getByLabel("Save the reply box as a quick answer named").fill("Norway delivery");
    await op.getByRole("button", { name: "Save", exact: true }).click();
    await reply.fill("");
    await op.getByRole("button", { name: /Norway delivery/ }).click();
    expect(await reply.inputValue()).toBe("Delivery to Norway takes 3–5 working days.");
    await reply.press("Enter");
    await vis.getByText("Delivery to Norway takes 3–5 working days.").waitFor();

    // Editing and deleting a sent message reach the customer.
    const delivery = op.locator(".message.out").filter({ hasText: "Delivery to Norway" });
    await delivery.getByRole("button", { name: "Edit" }).click();
    await delivery.getByLabel("Edit the message").fill("Delivery to Norway takes 2–4 working days.");
    await delivery.getByRole("button", { name: "Save" }).click();
    await vis.getByText("Delivery to Norway takes 2–4 working days.").waitFor();
    op.once("dialog", (d) => d.accept());
    await op
      .locator(".message.out")
      .filter({ hasText: "Two lines:" })
      .getByRole("button", { name: "Delete" })
      .click();
    await vis.getByText("Message deleted").waitFor();
    expect(await vis.getByText(/the second one/).count()).toBe(0);

    // A label, shown on the card and in the list.
    await op.getByLabel("Add a label").fill("export");
    await op.getByLabel("Add a label").press("Enter");
    await op.locator(".label-list").getByText("export").waitFor();
    await op.getByRole("tab", { name: /Mine/ }).click();
    await op.locator(".chat-item .labels").filter({ hasText: "export" }).waitFor();
    await shot(op, "labelled");

    // The customer types; the operator sees it. The widget and the hub pass on one typing signal
    // per 3 s, and the first message's own came moments ago: keep typing until it shows.
    const typing = op.locator(".typing").filter({ hasText: "is typing…" });
    for (let i = 0; i < 40 && !(await typing.isVisible()); i++) {
      await vis.getByLabel("Your message").press("a");
      await typing.waitFor({ timeout: 250 }).catch(() => {});
    }
    await typing.waitFor({ timeout: 1000 });
    await shot(op, "customer-typing");
    await vis.getByLabel("Your message").fill("");

    // The stream drops; the customer writes meanwhile; reconnecting catches up.
    await op.evaluate(() => (window as any).__openlinesStream.pause());
    await op.getByText("○ Reconnecting…").waitFor();
    await vis.getByLabel("Your message").fill("Great, and the price?");
    await vis.getByLabel("Your message").press("Enter");
    await vis.locator("li").filter({ hasText: "Great, and the price?" }).getByText(/✓/).waitFor();
    expect(await op.getByText("Great, and the price?").count()).toBe(0);
    await op.evaluate(() => (window as any).__openlinesStream.resume());
    await op.getByText("● Live").waitFor();
    await op.getByText("Great, and the price?").waitFor();
    await shot(op, "caught-up");

    // The customer never saw the note.
    expect(await vis.getByText("Asked about Norway twice").count()).toBe(0);
    await shot(vis, "visitor-view");
    await opContext.close();
    await visContext.close();
  });

  it("chimes and shows a browser notification for a new conversation while the workspace is in the background", async () => {
    const { page: op, context: opContext } = await newPage(world, { notifications: true });
    // Record what the page asks for: the tab counts as hidden, notifications and sounds are noted.
    await op.addInitScript(() => {
      const w = window as any;
      w.__notes = [];
      w.__sounds = 0;
      Object.defineProperty(document, "hidden", { get: () => true });
      w.Notification = class {
        static permission = "granted";
        static requestPermission = async () => "granted";
        constructor(title: string, o: { body?: string }) {
          w.__notes.push({ title, body: o?.body });
        }
      };
      HTMLMediaElement.prototype.play = () => {
        w.__sounds += 1;
        return Promise.resolve();
      };
    });
    await signInAsAdmin(op, world);
    await op.getByText("● Live").waitFor();
    const { page: vis, context: visContext } = await newPage(world);
    await vis.goto(`${world.server.url}/demo`);
    await vis.getByRole("button", { name: "Chat with us" }).click();
    await vis.getByLabel("Your message").fill("Anyone there?");
    await vis.getByLabel("Your message").press("Enter");
    await op.waitForFunction(() => (window as any).__notes.length > 0);
    const { notes, sounds } = await op.evaluate(() => ({
      notes: (window as any).__notes,
      sounds: (window as any).__sounds,
    }));
    expect(notes[0]).toMatchObject({ title: "New conversation" });
    expect(sounds).toBeGreaterThan(0);
    await opContext.close();
    await visContext.close();
  });

  it("suggests merging two visitors who gave the same e-mail, and after the merge shows the history of both", async () => {
    const shot = screenshots("merge");
    const { page: op, context: opContext } = await newPage(world);
    await signInAsAdmin(op, world);
    const visitor = async (text: string, name: string) => {
      const v = await newPage(world);
      await v.page.goto(`${world.server.url}/demo`);
      await v.page.getByRole("button", { name: "Chat with us" }).click();
      await v.page.getByLabel("Your message").fill(text);
      await v.page.getByLabel("Your message").press("Enter");
      await v.page.getByText(/✓/).first().waitFor();
      await v.page.getByLabel("Name (optional)").fill(name);
      await v.page.getByLabel("Email (optional)").fill("ann@example.com");
      await v.page.getByRole("button", { name: "Save" }).click();
      // The hub keeps the profile and hands it on with the visitor's next message.
      await v.page.getByLabel("Your message").fill("That's me.");
      await v.page.getByLabel("Your message").press("Enter");
      await v.page.locator("li").filter({ hasText: "That's me." }).getByText(/✓/).waitFor();
      return v;
    };
    const first = await visitor("My parcel 77 is late", "Ann on the laptop");
    const second = await visitor("Hello again, about my parcel", "Ann on the phone");
    const item = op.locator(".chat-item").filter({ hasText: "Ann on the phone" });
    await op.locator(".chat-item").filter({ hasText: "Ann on the laptop" }).waitFor();
    await item.waitFor();
    await item.click();
    await op.getByText("Hello again, about my parcel").waitFor();
    const suggestion = op.locator(".suggestions li").filter({ hasText: "Ann on the laptop" });
    await suggestion.waitFor();
    expect(await suggestion.textContent()).toContain("same email");
    await shot(op, "suggested");
    await suggestion.getByRole("button", { name: "Merge into this contact" }).click();
    await op.getByText("My parcel 77 is late").waitFor();
    expect(await op.locator(".contact-card .channels li").count()).toBe(2);
    await shot(op, "merged-history");
    await opContext.close();
    await first.context.close();
    await second.context.close();
  });
});
