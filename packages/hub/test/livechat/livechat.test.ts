import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PlatformError } from "../../src/connectors/contract.js";
import { createLivechat } from "../../src/connectors/livechat/index.js";
import { type Harness, startHarness, VisitorSocket } from "./harness.js";

const ORIGIN = "https://shop.example.com";
const settings = { allowedOrigins: [ORIGIN], visitorMessagesPerMinute: 3, maxUploadBytes: 2048 };

describeEachDialect("live chat connector", (db) => {
  let h: Harness;
  let line: ReturnType<Harness["addLine"]>;
  const sockets: VisitorSocket[] = [];

  beforeAll(async () => {
    h = await startHarness(createLivechat({ uploadDir: mkdtempSync(join(tmpdir(), "lc-up-")) }), {
      url: db.url(),
    });
    line = h.addLine("h1", settings);
    h.addLine("h2", { allowedOrigins: ["https://other.example.com"] });
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await h?.close();
  });

  const session = async (origin = ORIGIN, hash = "h1", body: object = {}) =>
    fetch(`${h.base}/livechat/session?line=${hash}`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const visitor = async (body: object = {}) => {
    const r = await session(ORIGIN, "h1", body);
    expect(r.status).toBe(200);
    return (await r.json()) as { visitorId: string; token: string };
  };
  const connect = async (token: string, extra = "", origin = ORIGIN) => {
    const s = new VisitorSocket(
      `${h.base.replace("http", "ws")}/livechat/socket?line=h1&token=${encodeURIComponent(token)}${extra}`,
      origin,
    );
    sockets.push(s);
    await s.opened();
    await s.next("ready");
    return s;
  };
  const eventsFor = (visitorId: string) =>
    h.events.map((e) => e.event).filter((e) => (e.data as { chat: { id: string } }).chat.id === visitorId);

  it("serves the widget script for a known line with a script type and caching, and 404 for an unknown one", async () => {
    const r = await fetch(`${h.base}/livechat/widget.js?line=h1`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(r.headers.get("cache-control")).toMatch(/max-age=\d+/);
    expect(await r.text()).toContain("/livechat/socket");
    const again = await fetch(`${h.base}/livechat/widget.js?line=h1`, {
      headers: { "if-none-match": r.headers.get("etag") ?? "" },
    });
    expect(again.status).toBe(304);
    expect((await fetch(`${h.base}/livechat/widget.js?line=nope`)).status).toBe(404);
  });

  it("refuses a session from a site that is not allowed, and allows the configured one with CORS", async () => {
    const bad = await session("https://evil.example.com");
    expect(bad.status).toBe(403);
    expect((await session("https://shop.example.com", "h2")).status).toBe(403);
    const ok = await session();
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const pre = await fetch(`${h.base}/livechat/session?line=h1`, {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
  });

  it("passes a visitor's message to the portal with name, email and page URL as the profile", async () => {
    const v = await visitor({ name: "Ann" });
    const s = await connect(v.token, `&page=${encodeURIComponent("https://shop.example.com/pricing")}`);
    s.send({ type: "profile", email: "ann@example.com" });
    s.send({ type: "message", clientId: "c1", text: "Hello [b]there[/b]" });
    const status = await s.next("status");
    expect(status).toMatchObject({ clientId: "c1", status: "sent" });
    const [m] = eventsFor(v.visitorId).filter((e) => e.type === "messages");
    expect(m.type).toBe("messages");
    if (m.type !== "messages") return;
    expect(m.data.user).toEqual({
      id: v.visitorId,
      name: "Ann",
      email: "ann@example.com",
      pageUrl: "https://shop.example.com/pricing",
    });
    expect(m.data.chat).toEqual({ id: v.visitorId, type: "private" });
    expect(m.data.message.id).toBe(status.id);
    // the visitor's text is literal: brackets are escaped in the exchange markup
    expect(m.data.message.text).toBe("Hello [[b]there[[/b]");
  });

  it("stores a re-sent frame once and queues it under one dedup key", async () => {
    const v = await visitor();
    const s = await connect(v.token);
    s.send({ type: "message", clientId: "same", text: "once" });
    s.send({ type: "message", clientId: "same", text: "once" });
    const a = await s.next("status");
    const b = await s.next("status");
    expect(a.id).toBe(b.id);
    const msgs = eventsFor(v.visitorId).filter((e) => e.type === "messages");
    expect(new Set(msgs.map((e) => e.dedupKey)).size).toBe(1);
  });

  it("answers a visitor over the rate limit with an error frame and queues nothing", async () => {
    const v = await visitor();
    const s = await connect(v.token);
    for (let i = 0; i < 4; i++) s.send({ type: "message", clientId: `r${i}`, text: `m${i}` });
    const err = await s.next("error");
    expect(err).toMatchObject({ code: "RATE_LIMITED", clientId: "r3" });
    expect(eventsFor(v.visitorId).filter((e) => e.type === "messages")).toHaveLength(3);
    h.clock.advance(60_000); // the bucket refills over a minute
    s.send({ type: "message", clientId: "r4", text: "later" });
    expect(await s.next("status", (f) => f.clientId === "r4")).toMatchObject({ status: "sent" });
  });

  it("refuses a forged or foreign token before the socket opens", async () => {
    const v = await visitor();
    const other = await visitor();
    const forged = `v1.${other.visitorId}.${v.token.split(".")[2]}`;
    for (const token of [forged, "v1.v_abc.xyz", "garbage"]) {
      const s = new VisitorSocket(`${h.base.replace("http", "ws")}/livechat/socket?line=h1&token=${token}`);
      await expect(s.opened()).rejects.toThrow(/HTTP 401/);
    }
    const wrongSite = new VisitorSocket(
      `${h.base.replace("http", "ws")}/livechat/socket?line=h1&token=${v.token}`,
      "https://evil.example.com",
    );
    await expect(wrongSite.opened()).rejects.toThrow(/HTTP 403/);
  });

  it("pushes the operator's reply to the visitor's socket and reports it delivered, then read", async () => {
    const v = await visitor();
    const s = await connect(v.token);
    const { platformMessageId } = await line.connector.send({
      id: "portal-msg-1",
      chat: { id: v.visitorId },
      text: "We can [b]help[/b]",
      files: [],
      connector: "livechat",
    });
    const frame = await s.next("message", (f) => f.from === "operator");
    expect(frame).toMatchObject({
      id: platformMessageId,
      text: "We can help",
      html: "We can <strong>help</strong>",
    });
    const delivered = await h.waitFor(
      (e) => e.type === "deliveryStatus" && e.data.messageId === "portal-msg-1",
    );
    expect(delivered.data).toMatchObject({
      status: "delivered",
      platformMessageId,
      chat: { id: v.visitorId },
    });
    s.send({ type: "read", ids: [platformMessageId] });
    const read = await h.waitFor((e) => e.type === "readStatus" && e.data.chat.id === v.visitorId);
    expect(read.data).toMatchObject({ platformMessageIds: [platformMessageId] });
  });

  it("gives a reconnecting visitor what was missed after its last seq, and counts it delivered", async () => {
    const v = await visitor();
    const s1 = await connect(v.token);
    s1.send({ type: "message", clientId: "k1", text: "first" });
    const first = await s1.next("message", (f) => f.clientId === "k1");
    await s1.close();
    const sent = await line.connector.send({
      id: "portal-offline-1",
      chat: { id: v.visitorId },
      text: "while you were away",
      files: [],
      connector: "livechat",
    });
    expect(eventsFor(v.visitorId).some((e) => e.type === "deliveryStatus")).toBe(false);
    const s2 = await connect(v.token, `&after=${first.seq}`);
    const missed = await s2.next("message");
    expect(missed).toMatchObject({
      id: sent.platformMessageId,
      from: "operator",
      text: "while you were away",
    });
    expect(s2.frames.filter((f) => f.type === "message")).toHaveLength(1);
    await h.waitFor(
      (e) =>
        e.type === "deliveryStatus" &&
        e.data.messageId === "portal-offline-1" &&
        e.data.status === "delivered",
    );
    // a page reload (after=0) shows the whole conversation
    const s3 = await connect(v.token);
    await s3.next("message", (f) => f.id === sent.platformMessageId);
    expect(s3.frames.filter((f) => f.type === "message").map((f) => f.from)).toEqual(["visitor", "operator"]);
  });

  it("passes typing both ways, the operator's read marks, edits and deletes", async () => {
    const v = await visitor();
    const s = await connect(v.token);
    s.send({ type: "typing" });
    await h.waitEvents("typing");
    s.send({ type: "message", clientId: "t1", text: "question" });
    const st = await s.next("status");
    await line.connector.typing?.({ id: v.visitorId, connector: "livechat" });
    await s.next("typing");
    await line.connector.markRead?.({ id: v.visitorId, connector: "livechat" }, [st.id]);
    expect(await s.next("read")).toEqual({ type: "read", ids: [st.id] });
    const { platformMessageId } = await line.connector.send({
      id: "p-edit",
      chat: { id: v.visitorId },
      text: "typo",
      files: [],
      connector: "livechat",
    });
    await line.connector.update?.({
      id: "p-edit",
      chat: { id: v.visitorId },
      platformMessageId,
      text: "fixed",
      connector: "livechat",
    });
    expect(await s.next("edit")).toMatchObject({ id: platformMessageId, text: "fixed" });
    await line.connector.delete?.({
      id: "p-edit",
      chat: { id: v.visitorId },
      platformMessageId,
      connector: "livechat",
    });
    expect(await s.next("delete")).toEqual({ type: "delete", id: platformMessageId });
  });

  it("takes a visitor's upload within the size limit and passes it on as a hub link", async () => {
    const v = await visitor();
    const up = await fetch(`${h.base}/livechat/upload?line=h1&name=note.txt`, {
      method: "POST",
      headers: { origin: ORIGIN, authorization: `Bearer ${v.token}`, "content-type": "text/plain" },
      body: "hello file",
    });
    expect(up.status).toBe(200);
    const file = (await up.json()) as { id: string; size: number };
    expect(file.size).toBe(10);
    const big = await fetch(`${h.base}/livechat/upload?line=h1&name=big.bin`, {
      method: "POST",
      headers: {
        origin: ORIGIN,
        authorization: `Bearer ${v.token}`,
        "content-type": "application/octet-stream",
      },
      body: new Uint8Array(4096),
    });
    expect(big.status).toBe(413);
    const s = await connect(v.token);
    s.send({ type: "message", clientId: "f1", text: "", files: [{ id: file.id }] });
    await s.next("status");
    const m = eventsFor(v.visitorId).find((e) => e.type === "messages");
    if (m?.type !== "messages") throw new Error("no message");
    expect(m.data.message.files).toEqual([
      expect.objectContaining({ name: "note.txt", type: "text/plain", size: 10, kind: "document" }),
    ]);
    expect(m.data.message.files[0].url).toContain(`ref=${file.id}`);
    // the connector streams it for the hub's file link
    const res = await line.connector.resolveFile?.(file.id);
    expect(await res?.text()).toBe("hello file");
    // another visitor can neither attach nor download it
    const other = await visitor();
    const dl = await fetch(`${h.base}/livechat/file?line=h1&id=${file.id}&token=${other.token}`);
    expect(dl.status).toBe(404);
    const s2 = await connect(other.token);
    s2.send({ type: "message", clientId: "steal", text: "", files: [{ id: file.id }] });
    expect(await s2.next("error")).toMatchObject({ code: "VALIDATION_FAILED", clientId: "steal" });
  });

  it("fails a reply to an unknown visitor with a reason an operator understands", async () => {
    const err = await line.connector
      .send({ id: "x", chat: { id: "v_unknown" }, text: "hi", files: [], connector: "livechat" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.retryable).toBe(false);
  });

  it("logged no errors along the way", () => {
    expect(h.errors).toEqual([]);
  });
});
