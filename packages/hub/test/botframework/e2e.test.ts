import { generateSecret, ManualClock, type Packet } from "@openlines/protocol";
import { toHtml } from "@openlines/protocol/markup";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { botframework } from "../../src/connectors/botframework/index.js";
import { type PortalRpc, startTestHub, type TestHub, until } from "../support/hub-harness.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";
import { activity } from "./activities.js";
import { APP_ID, APP_SECRET, FakeBotConnector } from "./fake-bot-connector.js";

/**
 * Bot Framework through a real hub (webhook entry, JWT check, pipeline, queue, RPC, outbox, chat
 * context) to a real local portal stub, with the fake Bot Connector service, token endpoint and
 * OpenID metadata standing in for Microsoft.
 */
describeEachDialect("Bot Framework end to end through the hub", (db) => {
  let fake: FakeBotConnector;
  let stub: PortalStub;
  let t: TestHub;
  let rpc: PortalRpc;
  let webhookUrl = "";
  const clock = new ManualClock(Date.now());
  const line = { line: "support", connector: "botframework" };
  const settings = { botHandle: "helpbot", appId: APP_ID, appSecret: APP_SECRET };
  const packets = () => stub.requests.flatMap((r) => r.body.packets) as Packet[];
  const skypeChat = "29:1AbCdEfSkypeUser";
  const post = async (body: any, token?: string | null, url = webhookUrl) =>
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === null
          ? {}
          : { authorization: `Bearer ${token ?? (await fake.sign(body, { nowMs: clock.now() }))}` }),
      },
      body: JSON.stringify(body),
    });
  const statusOf = (id: string) =>
    packets().find((p) => p.type === "deliveryStatus" && p.data.messageId === id) as
      | Extract<Packet, { type: "deliveryStatus" }>
      | undefined;

  beforeAll(async () => {
    fake = await FakeBotConnector.start();
    await fake.addKey("rogue", [], false);
    await fake.addKey("teams-only", ["msteams"]);
    const secret = generateSecret();
    stub = await startPortalStub({ secret, now: () => clock.now() });
    t = await startTestHub(db.url(), {
      clock,
      queue: "real",
      connectors: [botframework],
      config: { baseUrls: { botframework: { login: fake.url, openid: fake.url } } },
    });
    rpc = (await t.addPortal("p1", stub.url, secret)).rpc;
  });
  afterAll(async () => {
    await t?.close();
    await stub?.close();
    await fake?.close();
  });

  it("tests the credentials and activates the line bound to the App ID", async () => {
    const saved = await rpc.saveSettings({ ...line, settings });
    webhookUrl = saved.webhookUrl;
    expect(await rpc.testConnect(line)).toMatchObject({ ok: true, account: { id: APP_ID, name: "helpbot" } });
    expect(await rpc.activate(line)).toMatchObject({ status: "active" });
    const { lines } = await rpc.status({ line: "support" });
    expect(lines[0]).toMatchObject({ status: "active", account: { id: APP_ID } });
  });

  it("reports a wrong App secret clearly from testConnect", async () => {
    await rpc.saveSettings({
      line: "wrong",
      connector: "botframework",
      settings: { ...settings, appSecret: "nope" },
    });
    const r = await rpc.testConnect({ line: "wrong", connector: "botframework" });
    expect(r.ok).toBe(false);
    expect(r.error?.message).toMatch(/App secret is wrong/);
    expect(JSON.stringify(r)).not.toContain("nope");
  });

  it("refuses with 401, queueing nothing, tokens that are missing, expired, from another issuer, for another bot, signed by an unknown key, for another serviceUrl or without the channel's endorsement", async () => {
    const a = activity(fake.serviceUrl("skype"), "skype", { id: "refused-1", text: "let me in" });
    const now = clock.now();
    const cases: [string, string | null][] = [
      ["missing", null],
      ["expired", await fake.sign(a, { nowMs: now, expSeconds: -600 })],
      ["issuer", await fake.sign(a, { nowMs: now, issuer: "https://evil.example" })],
      ["audience", await fake.sign(a, { nowMs: now, audience: "11111111-2222-3333-4444-555555555555" })],
      ["unknown key", await fake.sign(a, { nowMs: now, kid: "rogue" })],
      ["serviceUrl", await fake.sign({ serviceUrl: "https://evil.example/" }, { nowMs: now })],
      ["endorsement", await fake.sign(a, { nowMs: now, kid: "teams-only" })],
    ];
    for (const [name, token] of cases) {
      const res = await post(a, token);
      expect(res.status, name).toBe(401);
      expect((await res.json()).error.code, name).toBe("WEBHOOK_UNVERIFIED");
    }
    expect(await t.count("packet")).toBe(0);
    expect(await t.count("chat_context")).toBe(0);
    expect(stub.requests).toHaveLength(0);
  });

  it("brings a Skype user's (smile) *hi* to the portal as 🙂 and bold hi", async () => {
    const a = activity(fake.serviceUrl("skype"), "skype", { id: "1767607200000", text: "(smile) *hi*" });
    expect((await post(a)).status).toBe(200);
    expect((await post(a)).status).toBe(200); // the connector retries: queued once
    await stub.waitFor(() => packets().some((p) => p.type === "messages"));
    const messages = packets().filter((p) => p.type === "messages");
    expect(messages).toHaveLength(1);
    const m = messages[0];
    if (m.type !== "messages") throw new Error("not a message");
    expect(m.connector).toBe("botframework.skype");
    expect(m.data.chat).toEqual({ id: skypeChat, type: "private" });
    expect(m.data.user).toMatchObject({ id: skypeChat, name: "Alice Skype" });
    expect(m.data.message.text).toBe("🙂 [b]hi[/b]");
    expect(toHtml(m.data.message.text)).toBe("🙂 <strong>hi</strong>");
  });

  it("sends the operator's reply to the conversation from the bot to the user and reports the activity id", async () => {
    await rpc.sendMessages({
      ...line,
      messages: [{ id: "op-1", chat: { id: skypeChat }, text: "[b]Hello[/b] Alice (smile)" }],
    });
    await stub.waitFor(() => statusOf("op-1") !== undefined);
    const [call] = fake.callsOf("POST");
    expect(call.path).toBe(`/skype/v3/conversations/${encodeURIComponent(skypeChat)}/activities`);
    expect(call.conversationId).toBe(skypeChat);
    expect(call.body).toMatchObject({
      type: "message",
      channelId: "skype",
      from: { id: `28:${APP_ID}`, name: "HelpBot" },
      recipient: { id: skypeChat, name: "Alice Skype" },
      conversation: { id: skypeChat },
      text: "<b>Hello</b> Alice (smile)",
      textFormat: "xml",
    });
    expect(fake.tokens.has(call.token)).toBe(true);
    const status = statusOf("op-1");
    expect(status?.connector).toBe("botframework.skype");
    expect(status?.data).toMatchObject({
      status: "sent",
      platformMessageId: (call.answer as { id: string }).id,
    });
  });

  it("brings a Teams message with its connector-stored image as a hub link the portal can download", async () => {
    const png = Buffer.from("\x89PNG fake image bytes", "latin1");
    const contentUrl = fake.addFile("/msteams/attachments/a1/views/original", png, "image/png");
    const a = activity(fake.serviceUrl("msteams"), "msteams", {
      id: "1767607300000",
      text: "<p>See <b>this</b></p>",
      textFormat: "xml",
      attachments: [{ contentType: "image/png", contentUrl, name: "shot.png" }],
    });
    expect((await post(a)).status).toBe(200);
    await until(() => packets().find((p) => p.type === "messages" && p.connector === "botframework.msteams"));
    const m = packets().find((p) => p.type === "messages" && p.connector === "botframework.msteams");
    if (m?.type !== "messages") throw new Error("no Teams message");
    expect(m.data.message.text).toBe("See [b]this[/b]");
    const [file] = m.data.message.files;
    expect(file).toMatchObject({ name: "shot.png", type: "image/png", kind: "image" });
    expect(file.url.startsWith(t.url)).toBe(true);
    const download = await fetch(file.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(png);
  });

  it("edits, deletes and shows typing in the Teams chat by the activity id", async () => {
    const chat = { id: "a:1XyZTeamsPersonal" };
    await rpc.sendMessages({ ...line, messages: [{ id: "op-2", chat, text: "first" }] });
    await stub.waitFor(() => statusOf("op-2") !== undefined);
    const platformMessageId = statusOf("op-2")!.data.platformMessageId!;
    await rpc.typing({ ...line, chat });
    await rpc.updateMessages({
      ...line,
      messages: [{ id: "op-2", chat, platformMessageId, text: "[i]second[/i]" }],
    });
    await rpc.deleteMessages({ ...line, messages: [{ id: "op-2", chat, platformMessageId }] });
    await until(() => fake.callsOf("DELETE").length === 1);
    expect(fake.callsOf("PUT")[0]).toMatchObject({
      conversationId: chat.id,
      activityId: platformMessageId,
      body: { text: "<i>second</i>", textFormat: "xml", recipient: { id: "29:1TeamsUserAbc" } },
    });
    expect(fake.callsOf("DELETE")[0]).toMatchObject({
      conversationId: chat.id,
      activityId: platformMessageId,
    });
    expect(fake.callsOf("POST").some((c) => c.body.type === "typing" && c.conversationId === chat.id)).toBe(
      true,
    );
  });

  it("waits as long as a 429 says before sending again", async () => {
    fake.failNext(429, { error: { code: "Throttled", message: "slow down" } }, { "retry-after": "3" });
    const before = fake.callsOf("POST").length;
    await rpc.sendMessages({ ...line, messages: [{ id: "op-3", chat: { id: skypeChat }, text: "later" }] });
    await until(() => fake.callsOf("POST").length === before + 1, 20_000);
    clock.advance(2000);
    await new Promise((r) => setTimeout(r, 50)); // room for a wrong early retry to show up
    expect(fake.callsOf("POST").length).toBe(before + 1);
    clock.advance(1000);
    await stub.waitFor(() => statusOf("op-3") !== undefined);
    expect(fake.callsOf("POST").length).toBe(before + 2);
    expect(statusOf("op-3")?.data).toMatchObject({ status: "sent" });
  });

  it("moves the App ID to another portal's line: the first line is deactivated and its portal told", async () => {
    const { rpc: rpc2 } = await t.addPortal("p2");
    const { webhookUrl: newUrl } = await rpc2.saveSettings({ ...line, settings });
    expect(await rpc2.activate(line)).toMatchObject({ status: "active" });
    await stub.waitFor(() => packets().some((p) => p.type === "deactivate"));
    expect(packets().find((p) => p.type === "deactivate")?.data).toMatchObject({
      reason: "connectedElsewhere",
    });
    const { lines } = await rpc.status({ line: "support" });
    expect(lines[0].status).toBe("needsAttention");
    const a = activity(fake.serviceUrl("skype"), "skype", { id: "after-move", text: "still there?" });
    expect((await post(a)).status).not.toBe(200);
    expect((await post(a, undefined, newUrl)).status).toBe(200);
  });
});
