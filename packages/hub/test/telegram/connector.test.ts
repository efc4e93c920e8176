import { isOpenlinesError, type ManualClock } from "@openlines/protocol";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { PlatformError } from "../../src/connectors/contract.js";
import { telegram } from "../../src/connectors/telegram/index.js";
import { SECRET_CACHE_MS, SECRET_KEY } from "../../src/connectors/telegram/secret.js";
import { LINE, testContext } from "./context.js";
import { FakeBotApi, parseTelegramHtml, TOKEN } from "./fake-bot-api.js";

const fake = await FakeBotApi.start();
afterAll(() => fake.close());
beforeEach(() => {
  fake.calls.length = 0;
});

const out = (o: { text?: string; files?: any[]; replyTo?: string }) => ({
  id: "m-1",
  chat: { id: "123456789" },
  text: o.text ?? "",
  files: o.files ?? [],
  replyTo: o.replyTo,
  connector: "telegram",
});
const file = (name: string, type: string, kind?: string, size = 1000) => ({
  url: `https://portal.example/files/${name}`,
  name,
  type,
  size,
  ...(kind ? { kind } : {}),
});

async function failure(p: Promise<unknown>): Promise<PlatformError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  expect(e).toBeInstanceOf(PlatformError);
  expect(String(e.message)).not.toContain(TOKEN);
  return e;
}

describe("Telegram connector against the fake Bot API", () => {
  it("tests the connection with getMe and names the bot account", async () => {
    const { connector } = testContext(fake.url);
    expect(await connector.testConnect()).toEqual({ account: { id: "7000000001", name: "@help_bot" } });
    expect(await connector.accountId()).toBe("7000000001");
  });

  it("says the token is wrong or revoked when Telegram answers 401", async () => {
    const { connector } = testContext(fake.url, { botToken: "7000000001:AAwrongwrongwrongwrongwrong" });
    const e = await failure(connector.testConnect());
    expect(e.message).toBe("the bot token is wrong or revoked");
    expect(e.retryable).toBe(false);
    expect(await connector.healthCheck()).toEqual({
      ok: false,
      reason: "the bot token is wrong or revoked",
      revoked: true,
    });
  });

  it("registers the line's webhook with a random per-line secret and the update types it reads, and removes it", async () => {
    const { connector, contexts } = testContext(fake.url);
    await connector.register();
    const secret = (contexts.get(SECRET_KEY) as { secretToken: string }).secretToken;
    expect(fake.webhook).toEqual({
      url: LINE.webhookUrl,
      secret_token: secret,
      allowed_updates: ["message", "edited_message", "my_chat_member"],
    });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await connector.register();
    expect(fake.webhook.secret_token).toBe(secret);
    const other = testContext(fake.url);
    await other.connector.register();
    expect(fake.webhook.secret_token).not.toBe(secret);
    await connector.register();
    expect(await connector.healthCheck()).toEqual({ ok: true });
    await connector.unregister();
    expect(fake.webhook.url).toBe("");
    expect(await connector.healthCheck()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no webhook/),
    });
  });

  it("leaves the webhook alone on unregister when another line has taken the bot over", async () => {
    const { connector } = testContext(fake.url);
    fake.webhook = { url: "https://hub.example/webhook?line=newer", secret_token: "s" };
    await connector.unregister();
    expect(fake.webhook.url).toBe("https://hub.example/webhook?line=newer");
    expect(fake.callsOf("deleteWebhook")).toHaveLength(0);
  });

  it("reports a webhook that points elsewhere as unhealthy", async () => {
    const { connector } = testContext(fake.url);
    fake.webhook = { url: "https://other.example/hook" };
    expect(await connector.healthCheck()).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/elsewhere/),
    });
  });

  it("accepts only the secret header it registered, compared whole", async () => {
    const { connector, ctx, contexts } = testContext(fake.url);
    const req = (h?: string) => ({
      method: "POST" as const,
      query: {},
      headers: { "x-telegram-bot-api-secret-token": h },
      rawBody: Buffer.from("{}"),
      ip: "127.0.0.1",
    });
    const refused = async (h?: string) => {
      const e = await connector.verify(req(h)).catch((err) => err);
      expect(isOpenlinesError(e, "WEBHOOK_UNVERIFIED")).toBe(true);
      expect(e.status).toBe(401);
    };
    await refused("anything"); // nothing registered yet: nothing is accepted
    await connector.register();
    const secret = fake.webhook.secret_token!;
    await expect(connector.verify(req(secret))).resolves.toBeUndefined();
    for (const bad of [undefined, "", "wrong", secret.slice(0, -1), `${secret}x`]) await refused(bad);
    // a new token for the same bot: a new instance, the stored secret still holds
    const again = telegram.create({ ...ctx, settings: { ...ctx.settings, botToken: `${TOKEN}x` } });
    await expect(again.verify(req(secret))).resolves.toBeUndefined();
    // the line lost the bot to another line: its chat context (and the secret) is gone
    contexts.clear();
    (ctx.clock as ManualClock).advance(SECRET_CACHE_MS);
    await refused(secret);
  });

  it("sends text as HTML and returns Telegram's message id", async () => {
    const { connector } = testContext(fake.url);
    const r = await connector.send(out({ text: "[b]Ticket #42[/b] created: 1 < 2 & 3 > 2", replyTo: "57" }));
    const [call] = fake.callsOf("sendMessage");
    expect(call.params).toEqual({
      chat_id: 123456789,
      text: "<b>Ticket #42</b> created: 1 &lt; 2 &amp; 3 &gt; 2",
      parse_mode: "HTML",
      reply_parameters: { message_id: 57, allow_sending_without_reply: true },
    });
    expect(r.platformMessageId).toBe(String((call.answer as any).message_id));
  });

  it("splits a long text into several valid messages and replies with the first only", async () => {
    const { connector } = testContext(fake.url);
    const text = `[b]${"long line of text\n".repeat(700)}[/b]`;
    const r = await connector.send(out({ text, replyTo: "57" }));
    const calls = fake.callsOf("sendMessage");
    expect(calls.length).toBe(4);
    expect(calls.filter((c) => c.params.reply_parameters)).toHaveLength(1);
    for (const c of calls) expect(parseTelegramHtml(c.params.text).length).toBeLessThanOrEqual(4096);
    expect(calls.every((c) => c.params.text.startsWith("<b>") && c.params.text.endsWith("</b>"))).toBe(true);
    expect(calls.map((c) => parseTelegramHtml(c.params.text)).join("")).toBe(
      "long line of text\n".repeat(700),
    );
    expect(r.platformMessageId).toBe(String((calls[0].answer as any).message_id));
  });

  it("sends one file by URL with the text as its caption, the rest of a long text after it", async () => {
    const { connector } = testContext(fake.url);
    await connector.send(out({ text: "see [i]attached[/i]", files: [file("a.jpg", "image/jpeg", "image")] }));
    expect(fake.callsOf("sendPhoto")[0].params).toEqual({
      chat_id: 123456789,
      photo: "https://portal.example/files/a.jpg",
      caption: "see <i>attached</i>",
      parse_mode: "HTML",
    });

    fake.calls.length = 0;
    await connector.send(out({ text: "word ".repeat(400), files: [file("r.pdf", "application/pdf")] }));
    expect(fake.calls.map((c) => c.method)).toEqual(["sendDocument", "sendMessage"]);
    expect(parseTelegramHtml(fake.calls[0].params.caption).length).toBeLessThanOrEqual(1024);
  });

  it("chooses the send method by file kind and sends a large photo as a document", async () => {
    const { connector } = testContext(fake.url);
    await connector.send(out({ files: [file("v.mp4", "video/mp4")] }));
    await connector.send(out({ files: [file("s.mp3", "audio/mpeg")] }));
    await connector.send(out({ files: [file("big.jpg", "image/jpeg", "image", 6 * 1024 * 1024)] }));
    expect(fake.calls.map((c) => c.method)).toEqual(["sendVideo", "sendAudio", "sendDocument"]);
    expect(fake.calls[0].params.caption).toBeUndefined();
  });

  it("sends several files as media groups and returns the first message id", async () => {
    const { connector } = testContext(fake.url);
    const r = await connector.send(
      out({
        text: "three photos and a pdf",
        files: [
          file("1.jpg", "image/jpeg"),
          file("2.png", "image/png"),
          file("3.mp4", "video/mp4"),
          file("x.pdf", "application/pdf"),
        ],
        replyTo: "57",
      }),
    );
    expect(fake.calls.map((c) => c.method)).toEqual(["sendMediaGroup", "sendDocument"]);
    const group = fake.calls[0].params;
    expect(group.media).toEqual([
      {
        type: "photo",
        media: "https://portal.example/files/1.jpg",
        caption: "three photos and a pdf",
        parse_mode: "HTML",
      },
      { type: "photo", media: "https://portal.example/files/2.png" },
      { type: "video", media: "https://portal.example/files/3.mp4" },
    ]);
    expect(group.reply_parameters).toEqual({ message_id: 57, allow_sending_without_reply: true });
    expect(fake.calls[1].params.reply_parameters).toBeUndefined();
    expect(fake.calls[1].params.caption).toBeUndefined();
    expect(r.platformMessageId).toBe(String((fake.calls[0].answer as any)[0].message_id));
  });

  it("edits, deletes and shows typing", async () => {
    const { connector } = testContext(fake.url);
    await connector.update({
      id: "m-1",
      chat: { id: "123456789" },
      platformMessageId: "59",
      text: "[s]old[/s] new",
      connector: "telegram",
    });
    await connector.delete({
      id: "m-1",
      chat: { id: "123456789" },
      platformMessageId: "59",
      connector: "telegram",
    });
    await connector.typing({ id: "123456789", connector: "telegram" });
    expect(fake.calls.map((c) => [c.method, c.params])).toEqual([
      ["editMessageText", { chat_id: 123456789, message_id: 59, parse_mode: "HTML", text: "<s>old</s> new" }],
      ["deleteMessage", { chat_id: 123456789, message_id: 59 }],
      ["sendChatAction", { chat_id: 123456789, action: "typing" }],
    ]);
  });

  it("edits the caption of a media message and takes 'not modified' as done", async () => {
    const { connector } = testContext(fake.url);
    fake.failNext(
      { error_code: 400, description: "Bad Request: there is no text in the message to edit" },
      "editMessageText",
    );
    await connector.update({
      id: "m",
      chat: { id: "1" },
      platformMessageId: "9",
      text: "[b]new caption[/b]",
      connector: "telegram",
    });
    expect(fake.callsOf("editMessageCaption")[0].params.caption).toBe("<b>new caption</b>");
    fake.failNext({
      error_code: 400,
      description:
        "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
    });
    await expect(
      connector.update({
        id: "m",
        chat: { id: "1" },
        platformMessageId: "9",
        text: "same",
        connector: "telegram",
      }),
    ).resolves.toBeUndefined();
  });

  it("obeys 429 retry_after as a retryable error with the wait in milliseconds", async () => {
    const { connector } = testContext(fake.url);
    fake.failNext({
      error_code: 429,
      description: "Too Many Requests: retry after 7",
      parameters: { retry_after: 7 },
    });
    const e = await failure(connector.send(out({ text: "hi" })));
    expect(e).toMatchObject({ retryable: true, retryAfterMs: 7000, platformStatus: 429 });
  });

  it("fails at once, with a reason, when the customer blocked the bot", async () => {
    const { connector } = testContext(fake.url);
    fake.failNext({ error_code: 403, description: "Forbidden: bot was blocked by the user" });
    const e = await failure(connector.send(out({ text: "hi" })));
    expect(e).toMatchObject({
      retryable: false,
      message: "the customer blocked the bot",
      platformStatus: 403,
    });
  });

  it("fails at once with Telegram's description on 400", async () => {
    const { connector } = testContext(fake.url);
    fake.failNext({ error_code: 400, description: "Bad Request: chat not found" });
    const e = await failure(connector.send(out({ text: "hi" })));
    expect(e.retryable).toBe(false);
    expect(e.message).toContain("Bad Request: chat not found");
  });

  it("retries on 5xx and on a network failure without leaking the token", async () => {
    const { connector } = testContext(fake.url);
    fake.failNext({ error_code: 502, description: "Bad Gateway" });
    expect((await failure(connector.send(out({ text: "hi" })))).retryable).toBe(true);

    const down = testContext("http://127.0.0.1:9").connector;
    const e = await failure(down.send(out({ text: "hi" })));
    expect(e.retryable).toBe(true);
    expect(String((e as any).cause?.message ?? "")).not.toContain(TOKEN);
  });

  it("resolves a file id to its content through getFile and the token-bearing download URL", async () => {
    const { connector } = testContext(fake.url);
    fake.addFile("AgAC-large", {
      file_path: "photos/file_7.jpg",
      content: Buffer.from("JPEGDATA"),
      type: "image/jpeg",
    });
    const res = await connector.resolveFile("AgAC-large");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(Buffer.from(await res.arrayBuffer()).toString()).toBe("JPEGDATA");
    expect(res.url).not.toContain(TOKEN);
    expect(fake.downloads).toContain("photos/file_7.jpg");
    const e = await failure(connector.resolveFile("missing"));
    expect(e.retryable).toBe(false);
  });

  it("refuses to send a message with neither text nor files", async () => {
    const { connector } = testContext(fake.url);
    expect((await failure(connector.send(out({ text: "  " })))).retryable).toBe(false);
    expect(fake.calls).toHaveLength(0);
  });
});
