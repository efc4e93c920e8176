import type { AddressInfo } from "node:net";
import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestPortal, type TestPortal } from "../support/lines-harness.js";

/** A WebSocket client that collects events and lets a test wait for one. */
function openStream(url: string, headers: Record<string, string>) {
  const events: Array<{ seq: number; type: string; data: any }> = [];
  const waiters: Array<() => void> = [];
  const ws = new WebSocket(url, { headers });
  ws.on("message", (raw) => {
    events.push(JSON.parse(raw.toString()));
    for (const w of waiters.splice(0)) w();
  });
  const until = (pred: (e: (typeof events)[number]) => boolean) =>
    new Promise<(typeof events)[number]>((resolve, reject) => {
      const check = () => {
        const hit = events.find(pred);
        if (hit) return resolve(hit);
        waiters.push(check);
      };
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      check();
    });
  const closed = () =>
    new Promise<void>((r) => (ws.readyState === ws.CLOSED ? r() : ws.once("close", () => r())));
  return { ws, events, until, closed };
}

describeEachDialect("operators' API", (db) => {
  let p: TestPortal;
  beforeEach(async () => {
    p = await startTestPortal(db.url());
  });
  afterEach(async () => {
    await p.close();
  });

  it("lists the queue and my chats, and a reply takes the session and goes through the messages service", async () => {
    const a = await p.operator({ name: "a" });
    const line = await p.line({}, [a.id]);
    await p.customerWrites(`${line}-c1`, line, "hello");
    const s = await p.signIn(a.email, a.password);
    const h = { cookie: s.cookie, "x-csrf-token": s.csrf };
    const queue = await p.app.inject({ method: "GET", url: "/api/chats?filter=queue", headers: h });
    expect(queue.json(), queue.body).toHaveProperty("chats");
    expect(queue.json().chats).toHaveLength(1);
    expect(queue.json().chats[0]).toMatchObject({
      chatId: `${line}-c1`,
      state: "offered",
      offeredToMe: true,
      unread: 1,
    });
    const unread = await p.app.inject({ method: "GET", url: "/api/chats/unread", headers: h });
    expect(unread.json()).toMatchObject({ queue: 1, mine: 0 });
    const sent = await p.app.inject({
      method: "POST",
      url: `/api/chats/${line}-c1/messages`,
      headers: h,
      payload: { text: "Hi, how can I help?" },
    });
    expect(sent.statusCode).toBe(201);
    expect(p.messages.sent).toEqual([
      expect.objectContaining({ chatId: `${line}-c1`, authorId: a.id, text: "Hi, how can I help?" }),
    ]);
    const mine = await p.app.inject({ method: "GET", url: "/api/chats?filter=mine", headers: h });
    expect(mine.json().chats.map((c: any) => c.state)).toEqual(["active"]);
    const detail = await p.app.inject({ method: "GET", url: `/api/chats/${line}-c1`, headers: h });
    expect(detail.json().history.map((m: any) => m.text)).toContain("hello");
    const bad = await p.app.inject({
      method: "POST",
      url: `/api/chats/${line}-c1/messages`,
      headers: h,
      payload: { text: 5 },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().error.code).toBe("VALIDATION_FAILED");
    expect(bad.json().error.details).toEqual([{ path: ["text"], message: expect.any(String) }]);
    const closed = await p.app.inject({
      method: "POST",
      url: `/api/sessions/${queue.json().chats[0].id}/close`,
      headers: h,
    });
    expect(closed.json().session).toMatchObject({ state: "closed", closeReason: "operator" });
  });

  it("keeps another line's chats from an operator", async () => {
    const a = await p.operator({ name: "a" });
    const b = await p.operator({ name: "b" });
    const line = await p.line({}, [a.id]);
    await p.customerWrites(`${line}-private`, line, "hello");
    const s = await p.signIn(b.email, b.password);
    const r = await p.app.inject({
      method: "GET",
      url: `/api/chats/${line}-private`,
      headers: { cookie: s.cookie },
    });
    expect(r.statusCode).toBe(403);
    const q = await p.app.inject({
      method: "GET",
      url: "/api/chats?filter=queue",
      headers: { cookie: s.cookie },
    });
    expect(q.json().chats).toEqual([]);
  });

  it("lets an admin connect a line's connector through the hub and mirrors the answer", async () => {
    const admin = await p.operator({ role: "admin" });
    const line = await p.line({}, []);
    p.hub.answers.saveSettings = { webhookUrl: "https://hub.test/webhook?line=abc", status: "new" };
    p.hub.answers.activate = { status: "active", webhookUrl: "https://hub.test/webhook?line=abc" };
    p.hub.answers.deactivate = { status: "disabled" };
    const s = await p.signIn(admin.email, admin.password);
    const h = { cookie: s.cookie, "x-csrf-token": s.csrf };
    const saved = await p.app.inject({
      method: "PUT",
      url: `/api/lines/${line}/connectors/telegram/settings`,
      headers: h,
      payload: { settings: { token: "123:abc" } },
    });
    expect(saved.statusCode).toBe(200);
    expect(p.hub.calls[0]).toEqual({
      method: "saveSettings",
      args: { line, connector: "telegram", settings: { token: "123:abc" } },
    });
    await p.app.inject({
      method: "POST",
      url: `/api/lines/${line}/connectors/telegram/activate`,
      headers: h,
    });
    const list = await p.app.inject({ method: "GET", url: `/api/lines/${line}/connectors`, headers: h });
    expect(list.json().connectors).toEqual([
      expect.objectContaining({
        connector: "telegram",
        status: "active",
        webhookUrl: "https://hub.test/webhook?line=abc",
      }),
    ]);
    p.ctx.bus.emit("line.deactivated", {
      lineId: line,
      connector: "telegram",
      reason: "connectedElsewhere",
      message: "bot moved",
    });
    await p.settled();
    p.hub.answers.status = { lines: [] };
    const attention = await p.app.inject({ method: "GET", url: "/api/lines/attention", headers: h });
    expect(attention.json().items).toEqual([
      expect.objectContaining({ lineId: line, connector: "telegram", status: "needsAttention" }),
    ]);
  });

  it("streams events to the operator over a WebSocket and catches up after a reconnect", async () => {
    const a = await p.operator({ name: "a", online: false });
    const line = await p.line({}, [a.id]);
    const s = await p.signIn(a.email, a.password);
    await p.app.listen({ port: 0, host: "127.0.0.1" });
    const base = `ws://127.0.0.1:${(p.app.server.address() as AddressInfo).port}/api/stream`;

    const refused = openStream(base, {});
    await expect(refused.until(() => false)).rejects.toThrow("HTTP 401");

    const first = openStream(base, { cookie: s.cookie });
    await first.until((e) => e.type === "ready");
    // Opening the stream set the operator online, so the new session is offered to them.
    await p.settled();
    expect((await p.ctx.services.auth.accounts.get(a.id)).presence).toBe("online");
    await p.customerWrites(`${line}-ws1`, line, "hello");
    const offered = await first.until((e) => e.type === "session.offered");
    expect(offered.data.session.chatId).toBe(`${line}-ws1`);
    const received = await first.until((e) => e.type === "message.received");
    const lastSeen = Math.max(...first.events.map((e) => e.seq));
    expect(received.seq).toBeGreaterThan(0);

    // Keep another socket open so the operator stays online while the first reconnects.
    const keeper = openStream(base, { cookie: s.cookie });
    await keeper.until((e) => e.type === "ready");
    first.ws.close();
    await first.closed();
    await p.customerWrites(`${line}-ws2`, line, "second chat");
    const again = openStream(`${base}?after=${lastSeen}`, { cookie: s.cookie });
    await again.until((e) => e.type === "ready");
    const missed = again.events.filter((e) => e.type !== "ready");
    expect(missed.length).toBeGreaterThan(0);
    expect(missed.every((e) => e.seq > lastSeen)).toBe(true);
    expect(missed.some((e) => e.type === "session.offered" && e.data.session.chatId === `${line}-ws2`)).toBe(
      true,
    );
    expect(missed.map((e) => e.seq)).toEqual([...missed.map((e) => e.seq)].sort((x, y) => x - y));

    const tooNew = openStream(`${base}?after=999999`, { cookie: s.cookie });
    expect((await tooNew.until((e) => e.type === "reload")).type).toBe("reload");

    const foreign = openStream(base, { cookie: s.cookie, origin: "https://evil.example" });
    await expect(foreign.until(() => false)).rejects.toThrow("HTTP 403");
    for (const c of [again, keeper, tooNew]) c.ws.close();
    await Promise.all([again, keeper, tooNew].map((c) => c.closed()));
  });
});
