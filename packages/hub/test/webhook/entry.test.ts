import type { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hubConfig } from "../../src/config.js";
import { reparseStored } from "../../src/server.js";
import { echoConnector, echoSign } from "../support/echo-connector.js";
import { hashOf, startTestHub, TEST_KEY, type TestHub, until } from "../support/hub-harness.js";

describeEachDialect("the webhook entry point", (ctx) => {
  let t: TestHub;
  let hash: string;
  let inactiveHash: string;
  beforeAll(async () => {
    t = await startTestHub(ctx.url(), { config: { bodyLimitBytes: 4096 } });
    t.platform.addBot("token-aaaa-1", "bot-1");
    const { rpc } = await t.addPortal("p1");
    const saved = await rpc.saveSettings({
      line: "L1",
      connector: "echo",
      settings: { token: "token-aaaa-1", secret: "echo-secret-1" },
    });
    hash = hashOf(saved.webhookUrl);
    await rpc.activate({ line: "L1", connector: "echo" });
    const other = await rpc.saveSettings({
      line: "L2",
      connector: "echo",
      settings: { token: "token-aaaa-1", secret: "echo-secret-1" },
    });
    inactiveHash = hashOf(other.webhookUrl);
  });
  afterAll(async () => t?.close());

  const nothingStored = async () => {
    expect(await t.count("webhook_raw")).toBe(0);
    expect(t.queue.list("messages")).toHaveLength(0);
  };

  it("answers an unknown hash with 404 and a JSON error, storing nothing", async () => {
    const res = await t.webhook("no-such-hash", { update_id: 1, chat: 1, text: "x" });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("LINE_UNKNOWN");
    const bare = await fetch(`${t.url}/webhook`, { method: "POST", body: "{}" });
    expect(bare.status).toBe(404);
    await nothingStored();
  });

  it("refuses a line connector that is not active with 409", async () => {
    const res = await t.webhook(inactiveHash, { update_id: 1, chat: 1, text: "x" });
    expect(res.status).toBe(409);
    expect((await res.json()).error.code).toBe("LINE_INACTIVE");
    await nothingStored();
  });

  it("refuses a missing signature with 401 and a tampered body with 403, storing nothing", async () => {
    const body = JSON.stringify({ update_id: 2, chat: 1, text: "hi" });
    const missing = await fetch(`${t.url}/webhook?line=${hash}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(missing.status).toBe(401);
    const tampered = await fetch(`${t.url}/webhook?line=${hash}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-echo-signature": echoSign("echo-secret-1", body) },
      body: body.replace("hi", "ho"),
    });
    expect(tampered.status).toBe(403);
    expect((await tampered.json()).error.code).toBe("FORBIDDEN");
    await nothingStored();
  });

  it("refuses an oversized body with 413 and malformed JSON with 400, storing nothing", async () => {
    const big = await t.webhook(hash, { update_id: 3, chat: 1, text: "x".repeat(5000) });
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe("BODY_TOO_LARGE");
    const body = "{not json";
    const bad = await fetch(`${t.url}/webhook?line=${hash}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-echo-signature": echoSign("echo-secret-1", body) },
      body,
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe("BODY_NOT_JSON");
    await nothingStored();
  });

  it("tells what it accepted and refused through typed events", async () => {
    const seen: string[] = [];
    t.hub.events.on("webhook:refused", (e) => seen.push(`refused ${e.code} ${e.status}`));
    t.hub.events.on("webhook:accepted", (e) => seen.push(`accepted ${e.events}`));
    await t.webhook("no-such-hash", { update_id: 1, chat: 1, text: "x" });
    await t.webhook(inactiveHash, { update_id: 1, chat: 1, text: "x" });
    await fetch(`${t.url}/webhook?line=${hash}&challenge=x`);
    expect(seen).toEqual(["refused LINE_UNKNOWN 404", "refused LINE_INACTIVE 409", "accepted 0"]);
  });

  it("echoes a GET handshake challenge", async () => {
    const res = await fetch(`${t.url}/webhook?line=${hash}&challenge=abc123`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("abc123");
  });

  it("queues a verified message with emoji normalised outside code, then answers the platform", async () => {
    const res = await t.webhook(hash, {
      update_id: 10,
      chat: 77,
      user: { id: 5, name: "Ann" },
      text: "hi (smile) :thumbsup: [code]:thumbsup: (smile)[/code] :-)",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const [p] = t.queue.list("messages");
    expect(p).toMatchObject({ portal: "p1", line: "L1", connector: "echo", type: "messages" });
    if (p.type !== "messages") throw new Error("not a message");
    expect(p.data.message.text).toBe("hi 🙂 👍 [code]:thumbsup: (smile)[/code] 🙂");
    expect(p.data.chat.id).toBe("77");
    expect(await t.count("webhook_raw")).toBe(3); // two handshakes and this message
    const chat = await t.hub.services.db
      .selectFrom("chat_context")
      .selectAll()
      .where("chat_id", "=", "77")
      .executeTakeFirst();
    expect(chat?.last_inbound_ms).not.toBeNull();
  });

  it("queues a re-delivered platform event once, even after the first was taken from the queue", async () => {
    const before = t.queue.list("messages").length;
    const update = { update_id: 20, chat: 78, text: "once" };
    expect((await t.webhook(hash, update)).status).toBe(200);
    expect((await t.webhook(hash, update)).status).toBe(200);
    const mine = t.queue
      .list("messages")
      .filter((p) => p.type === "messages" && p.data.message.text === "once");
    expect(mine).toHaveLength(1);
    await t.queue.ack("p1", [mine[0].id]);
    expect((await t.webhook(hash, update)).status).toBe(200);
    expect(
      t.queue.list("messages").filter((p) => p.type === "messages" && p.data.message.text === "once"),
    ).toHaveLength(0);
    expect(t.queue.list("messages").length).toBe(before);
  });

  it("keeps no credential header of a stored webhook", async () => {
    const rows = await t.hub.services.db.selectFrom("webhook_raw").select("headers").execute();
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.headers).not.toMatch(/x-echo-signature|echo-secret|authorization/i);
  });

  it("re-parses a stored body into a fresh packet", async () => {
    const raw = await t.hub.services.db
      .selectFrom("webhook_raw")
      .select("seq")
      .where("method", "=", "POST")
      .orderBy("seq")
      .executeTakeFirstOrThrow();
    const before = new Set(t.queue.list("messages").map((p) => p.id));
    const r = await t.hub.reparse(Number(raw.seq));
    expect(r).toEqual({ bodies: 1, queued: 1, failed: 0 });
    const fresh = t.queue.list("messages").filter((p) => !before.has(p.id));
    expect(fresh).toHaveLength(1);
    const byLine = await t.hub.reparse({ line: hash, since: 0 });
    expect(byLine.bodies).toBeGreaterThanOrEqual(2);
  });

  it("re-parses from the command line without serving, queueing into the durable queue", async () => {
    const before = await t.count("packet");
    const r = await reparseStored(
      hubConfig({ key: TEST_KEY, databaseUrl: ctx.url(), baseUrls: { echo: { api: t.platform.url } } }),
      { line: hash, since: 0 },
      { connectors: [echoConnector], log: { info() {}, warn() {}, error() {} } },
    );
    expect(r.failed).toBe(0);
    expect(r.queued).toBeGreaterThanOrEqual(2);
    expect(await t.count("packet")).toBe(before + r.queued);
  });

  it("turns a platform file into a signed, expiring hub link that streams the file", async () => {
    await t.webhook(hash, { update_id: 30, chat: 79, text: "pic", file: { id: "F-1", name: "cat.png" } });
    const p = await t.queue.waitFor((x) => x.type === "messages" && x.data.message.text === "pic");
    if (p.type !== "messages") throw new Error("not a message");
    const link = p.data.message.files[0].url;
    expect(link.startsWith(`${t.url}/files/`)).toBe(true);
    expect(link).not.toContain("token-aaaa-1");
    const got = await fetch(link);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-disposition")).toContain("cat.png");
    expect(await got.text()).toBe("file:F-1");
    const forged = await fetch(`${link.slice(0, -3)}abc`);
    expect(forged.status).toBe(404);
    (t.clock as ManualClock).advance(8 * 24 * 3600_000);
    expect((await fetch(link)).status).toBe(404);
  });
});

describeEachDialect("retention of raw webhooks and event ids", (ctx) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(ctx.url(), {
      config: {
        rawWebhookRetentionMs: 3600_000,
        platformEventRetentionMs: 2 * 3600_000,
        pruneIntervalMs: 600_000,
      },
    });
    t.platform.addBot("token-keep-01", "bot-keep");
    const { rpc } = await t.addPortal("p1");
    const saved = await rpc.saveSettings({
      line: "L1",
      connector: "echo",
      settings: { token: "token-keep-01", secret: "echo-secret-1" },
    });
    await rpc.activate({ line: "L1", connector: "echo" });
    await t.webhook(hashOf(saved.webhookUrl), { update_id: 1, chat: 1, text: "kept a while" });
  });
  afterAll(async () => t?.close());

  it("forgets raw bodies and event ids after their retention, by one timer", async () => {
    const clock = t.clock as ManualClock;
    expect([await t.count("webhook_raw"), await t.count("platform_event")]).toEqual([1, 1]);
    clock.advance(3600_000 + 600_000);
    await until(async () => (await t.count("webhook_raw")) === 0);
    expect(await t.count("platform_event")).toBe(1);
    clock.advance(3600_000);
    await until(async () => (await t.count("platform_event")) === 0);
    await t.hub.services.db
      .insertInto("sent_message")
      .values({
        line_connector_id: "lc_x",
        message_id: "m",
        chat_id: "c",
        platform_message_id: "p",
        created_ms: clock.now(),
      })
      .execute();
    clock.advance(89 * 24 * 3600_000);
    await t.hub.prune.once();
    expect(await t.count("sent_message")).toBe(1);
    clock.advance(2 * 24 * 3600_000);
    await until(async () => (await t.count("sent_message")) === 0);
  });
});
