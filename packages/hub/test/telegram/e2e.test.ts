import { generateSecret, ManualClock, type Packet } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { telegram } from "../../src/connectors/telegram/index.js";
import { type PortalRpc, startTestHub, type TestHub, until } from "../support/hub-harness.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";
import { FakeBotApi, TOKEN } from "./fake-bot-api.js";

/**
 * Telegram through a real hub (webhook entry, pipeline, queue, file links, RPC, outbox) to a real
 * local portal stub, with the fake Bot API standing in for Telegram.
 */
describeEachDialect("Telegram end to end through the hub", (db) => {
  let fake: FakeBotApi;
  let stub: PortalStub;
  let t: TestHub;
  let rpc: PortalRpc;
  let webhookUrl = "";
  const clock = new ManualClock(Date.now());
  const line = { line: "support", connector: "telegram" };
  const alice = { id: 123456789, is_bot: false, first_name: "Alice", username: "alice" };
  const chat = { id: 123456789, type: "private", first_name: "Alice" };
  const packets = () => stub.requests.flatMap((r) => r.body.packets) as Packet[];
  const post = (body: unknown, secret?: string, url = webhookUrl) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret === undefined ? {} : { "x-telegram-bot-api-secret-token": secret }),
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    fake = await FakeBotApi.start();
    const secret = generateSecret();
    stub = await startPortalStub({ secret, now: () => clock.now() });
    t = await startTestHub(db.url(), {
      clock,
      queue: "real",
      connectors: [telegram],
      config: { baseUrls: { telegram: { api: fake.url } } },
    });
    rpc = (await t.addPortal("p1", stub.url, secret)).rpc;
  });
  afterAll(async () => {
    await t?.close();
    await stub?.close();
    await fake?.close();
  });

  it("activates the line: getMe, then setWebhook with the line's URL and a secret", async () => {
    const saved = await rpc.saveSettings({ ...line, settings: { botToken: TOKEN } });
    webhookUrl = saved.webhookUrl;
    expect(await rpc.activate(line)).toMatchObject({ status: "active" });
    expect(fake.webhook.url).toBe(webhookUrl);
    expect(fake.webhook.secret_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { lines } = await rpc.status({ line: "support" });
    expect(lines[0]).toMatchObject({ status: "active", account: { id: "7000000001" } });
  });

  it("refuses a webhook without the secret, with a wrong one, malformed, or for an unknown line, queueing nothing", async () => {
    const update = {
      update_id: 1,
      message: { message_id: 1, from: alice, chat, date: 1767607200, text: "x" },
    };
    expect((await post(update)).status).toBe(401);
    expect((await post(update, "wrong-secret")).status).toBe(401);
    expect((await post({ update_id: "nope" }, fake.webhook.secret_token)).status).toBe(400);
    expect((await post("{broken", fake.webhook.secret_token)).status).toBe(400);
    const unknown = webhookUrl.replace(/line=[^&]+/, "line=unknown-hash");
    expect((await post(update, fake.webhook.secret_token, unknown)).status).toBe(404);
    expect(await t.count("packet")).toBe(0);
    expect(stub.requests).toHaveLength(0);
  });

  it("brings a customer's photo to the portal as text and a hub link the portal can download", async () => {
    const jpeg = Buffer.from("\xff\xd8\xff\xe0 fake jpeg bytes", "latin1");
    fake.addFile("AgAC-large", { file_path: "photos/file_7.jpg", content: jpeg, type: "image/jpeg" });
    const update = {
      update_id: 812345002,
      message: {
        message_id: 58,
        from: alice,
        chat,
        date: 1767607260,
        photo: [
          { file_id: "AgAC-small", file_unique_id: "AQAD1", width: 90, height: 67, file_size: 1200 },
          {
            file_id: "AgAC-large",
            file_unique_id: "AQAD2",
            width: 1280,
            height: 960,
            file_size: jpeg.length,
          },
        ],
        caption: "👍 broken on arrival",
        caption_entities: [{ type: "bold", offset: 3, length: 6 }],
      },
    };
    const res = await post(update, fake.webhook.secret_token);
    expect(res.status).toBe(200);
    expect((await post(update, fake.webhook.secret_token)).status).toBe(200); // Telegram retries
    await stub.waitFor(() => packets().some((p) => p.type === "messages"));
    const messages = packets().filter((p) => p.type === "messages");
    expect(messages).toHaveLength(1);
    const m = messages[0];
    if (m.type !== "messages") throw new Error("not a message");
    expect(m.connector).toBe("telegram");
    expect(m.data.chat.id).toBe("123456789");
    expect(m.data.message.text).toBe("👍 [b]broken[/b] on arrival");
    const [file] = m.data.message.files;
    expect(file).toMatchObject({ name: "photo_AQAD2.jpg", type: "image/jpeg", kind: "image" });
    expect(file.url.startsWith(t.url)).toBe(true);
    for (const r of stub.requests) expect(JSON.stringify(r.body)).not.toContain(TOKEN);

    const download = await fetch(file.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(jpeg);
    expect(fake.downloads).toEqual(["photos/file_7.jpg"]);
  });

  it("sends the operator's bold text and a document to Telegram and reports their message ids", async () => {
    await rpc.sendMessages({
      ...line,
      messages: [
        {
          id: "op-1",
          chat: { id: "123456789" },
          text: "[b]Sorry[/b] about that & we'll fix it <today>",
          replyTo: "58",
        },
        {
          id: "op-2",
          chat: { id: "123456789" },
          text: "Your [i]refund[/i] form",
          files: [
            { url: "https://portal.example/f/refund.pdf", name: "refund.pdf", type: "application/pdf" },
          ],
        },
      ],
    });
    await stub.waitFor(() => packets().filter((p) => p.type === "deliveryStatus").length >= 2);
    const [text] = fake.callsOf("sendMessage");
    expect(text.params).toMatchObject({
      chat_id: 123456789,
      text: "<b>Sorry</b> about that &amp; we'll fix it &lt;today&gt;",
      parse_mode: "HTML",
      reply_parameters: { message_id: 58 },
    });
    const [doc] = fake.callsOf("sendDocument");
    expect(doc.params).toMatchObject({
      chat_id: 123456789,
      document: "https://portal.example/f/refund.pdf",
      caption: "Your <i>refund</i> form",
      parse_mode: "HTML",
    });
    const statuses = packets().flatMap((p) => (p.type === "deliveryStatus" ? [p.data] : []));
    const byId = Object.fromEntries(statuses.map((s) => [s.messageId, s]));
    expect(byId["op-1"]).toMatchObject({
      status: "sent",
      platformMessageId: String((text.answer as any).message_id),
    });
    expect(byId["op-2"]).toMatchObject({
      status: "sent",
      platformMessageId: String((doc.answer as any).message_id),
    });
  });

  it("edits and deletes a sent message by its Telegram id, and shows typing", async () => {
    const sent = fake.callsOf("sendMessage")[0].answer as { message_id: number };
    const id = String(sent.message_id);
    await rpc.typing({ ...line, chat: { id: "123456789" } });
    await rpc.updateMessages({
      ...line,
      messages: [{ id: "op-1", chat: { id: "123456789" }, platformMessageId: id, text: "[u]Fixed[/u] text" }],
    });
    await rpc.deleteMessages({
      ...line,
      messages: [{ id: "op-1", chat: { id: "123456789" }, platformMessageId: id }],
    });
    await until(
      () => fake.callsOf("deleteMessage").length === 1 && fake.callsOf("sendChatAction").length === 1,
    );
    expect(fake.callsOf("sendChatAction")[0].params).toEqual({ chat_id: 123456789, action: "typing" });
    expect(fake.callsOf("editMessageText")[0].params).toEqual({
      chat_id: 123456789,
      message_id: sent.message_id,
      parse_mode: "HTML",
      text: "<u>Fixed</u> text",
    });
    expect(fake.callsOf("deleteMessage")[0].params).toEqual({
      chat_id: 123456789,
      message_id: sent.message_id,
    });
  });

  it("waits as long as a 429 says before sending again", async () => {
    fake.failNext({
      error_code: 429,
      description: "Too Many Requests: retry after 3",
      parameters: { retry_after: 3 },
    });
    const before = fake.callsOf("sendMessage").length;
    await rpc.sendMessages({ ...line, messages: [{ id: "op-4", chat: { id: "1001" }, text: "later" }] });
    await until(() => fake.callsOf("sendMessage").length === before + 1, 20_000);
    clock.advance(2000);
    await new Promise((r) => setTimeout(r, 50)); // room for a wrong early retry to show up
    expect(fake.callsOf("sendMessage").length).toBe(before + 1);
    clock.advance(1000);
    await stub.waitFor(() =>
      packets().some((p) => p.type === "deliveryStatus" && p.data.messageId === "op-4"),
    );
    expect(fake.callsOf("sendMessage").length).toBe(before + 2);
    const status = packets().find((p) => p.type === "deliveryStatus" && p.data.messageId === "op-4");
    expect(status?.data).toMatchObject({ status: "sent" });
  });

  it("reports a blocked bot as a failed delivery with the reason, without retrying", async () => {
    fake.failNext({ error_code: 403, description: "Forbidden: bot was blocked by the user" }, "sendMessage");
    const before = fake.callsOf("sendMessage").length;
    await rpc.sendMessages({
      ...line,
      messages: [{ id: "op-3", chat: { id: "1002" }, text: "hello?" }],
    });
    await stub.waitFor(() =>
      packets().some((p) => p.type === "deliveryStatus" && p.data.messageId === "op-3"),
    );
    const status = packets().find((p) => p.type === "deliveryStatus" && p.data.messageId === "op-3");
    expect(status?.data).toMatchObject({ status: "failed", reason: "the customer blocked the bot" });
    expect(fake.callsOf("sendMessage").length - before).toBe(1);
  });

  it("tells the portal the chat was closed when the customer blocks the bot", async () => {
    const res = await post(
      {
        update_id: 812345003,
        my_chat_member: {
          chat,
          from: alice,
          date: 1767607400,
          old_chat_member: { status: "member", user: { id: 7000000001, is_bot: true, first_name: "Help" } },
          new_chat_member: {
            status: "kicked",
            user: { id: 7000000001, is_bot: true, first_name: "Help" },
            until_date: 0,
          },
        },
      },
      fake.webhook.secret_token,
    );
    expect(res.status).toBe(200);
    await until(() => packets().some((p) => p.type === "messages" && p.data.event === "closedByUser"));
  });

  it("moves the bot to another portal's line: the first portal is told, and its deactivation leaves the new webhook alone", async () => {
    const { rpc: rpc2 } = await t.addPortal("p2");
    const oldSecret = fake.webhook.secret_token;
    const { webhookUrl: newUrl } = await rpc2.saveSettings({ ...line, settings: { botToken: TOKEN } });
    await rpc2.activate(line);
    expect(fake.webhook.url).toBe(newUrl);
    expect(fake.webhook.secret_token).not.toBe(oldSecret);
    await stub.waitFor(() => packets().some((p) => p.type === "deactivate"));
    const deactivate = packets().find((p) => p.type === "deactivate");
    expect(deactivate?.data).toMatchObject({ reason: "connectedElsewhere" });

    await rpc.deactivate(line);
    expect(fake.webhook.url).toBe(newUrl);
    expect(
      (
        await post(
          { update_id: 99, message: { message_id: 9, from: alice, chat, date: 1, text: "x" } },
          oldSecret,
        )
      ).status,
    ).not.toBe(200);
  });
});
