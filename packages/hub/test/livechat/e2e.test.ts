import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSecret, ManualClock, type Packet } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { form } from "../../src/connectors/form/index.js";
import { createLivechat } from "../../src/connectors/livechat/index.js";
import { hashOf, type PortalRpc, startTestHub, type TestHub } from "../support/hub-harness.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";
import { VisitorSocket } from "./harness.js";

const ORIGIN = "https://shop.example.com";

/**
 * The live chat and the site form through a real hub (routes, pipeline, queue, RPC, outbox) to a
 * real local portal stub that checks signatures, with visitors on real WebSockets.
 */
describeEachDialect("live chat and site form end to end through the hub", (db) => {
  let stub: PortalStub;
  let t: TestHub;
  let rpc: PortalRpc;
  const clock = new ManualClock(Date.now());
  const chatLine = { line: "site-chat", connector: "livechat" };
  const formLine = { line: "site-form", connector: "form" };
  let chatHash = "";
  let formHash = "";
  const sockets: VisitorSocket[] = [];
  const packets = () => stub.requests.flatMap((r) => r.body.packets) as Packet[];

  beforeAll(async () => {
    const secret = generateSecret();
    stub = await startPortalStub({ secret, now: () => clock.now() });
    t = await startTestHub(db.url(), {
      clock,
      queue: "real",
      connectors: [createLivechat({ uploadDir: mkdtempSync(join(tmpdir(), "lc-e2e-")) }), form],
    });
    rpc = (await t.addPortal("p1", stub.url, secret)).rpc;
    const chat = await rpc.saveSettings({
      ...chatLine,
      settings: { allowedOrigins: [ORIGIN], title: "Help" },
    });
    chatHash = hashOf(chat.webhookUrl);
    expect(await rpc.activate(chatLine)).toMatchObject({ status: "active" });
    const f = await rpc.saveSettings({ ...formLine, settings: { allowedOrigins: [ORIGIN] } });
    formHash = hashOf(f.webhookUrl);
    expect(await rpc.activate(formLine)).toMatchObject({ status: "active" });
  });
  afterAll(async () => {
    for (const s of sockets) await s.close();
    await t?.close();
    await stub?.close();
  });

  const connect = async (token: string, after = 0) => {
    const s = new VisitorSocket(
      `${t.url.replace("http", "ws")}/livechat/socket?line=${chatHash}&token=${encodeURIComponent(token)}&after=${after}&page=${encodeURIComponent(`${ORIGIN}/pricing`)}`,
      ORIGIN,
    );
    sockets.push(s);
    await s.opened();
    expect(await s.next("ready")).toMatchObject({ title: "Help" });
    return s;
  };

  it("carries a visitor's message to the portal, the operator's reply back to the socket, and its delivery", async () => {
    const r = await fetch(`${t.url}/livechat/session?line=${chatHash}`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ name: "Ann" }),
    });
    expect(r.status).toBe(200);
    const v = (await r.json()) as { visitorId: string; token: string };
    const s = await connect(v.token);
    s.send({ type: "profile", email: "ann@example.com" });
    s.send({ type: "message", clientId: "c1", text: "Is shipping free? :)" });
    const sent = await s.next("status");

    await stub.waitFor(() => packets().some((p) => p.type === "messages"));
    const m = packets().find((p) => p.type === "messages");
    if (m?.type !== "messages") throw new Error("no messages packet");
    expect(m).toMatchObject({ version: 1, portal: "p1", line: "site-chat", connector: "livechat" });
    expect(m.data.chat).toEqual({ id: v.visitorId, type: "private" });
    expect(m.data.user).toEqual({
      id: v.visitorId,
      name: "Ann",
      email: "ann@example.com",
      pageUrl: `${ORIGIN}/pricing`,
    });
    expect(m.data.message.id).toBe(sent.id);
    expect(m.data.message.text).toMatch(/^Is shipping free\?/);

    await rpc.sendMessages({
      ...chatLine,
      messages: [{ id: "op-1", chat: { id: v.visitorId }, text: "[b]Yes[/b]!" }],
    });
    const reply = await s.next("message", (f) => f.from === "operator");
    expect(reply).toMatchObject({ text: "Yes!", html: "<strong>Yes</strong>!" });
    await stub.waitFor(() =>
      packets().some(
        (p) => p.type === "deliveryStatus" && p.data.messageId === "op-1" && p.data.status === "delivered",
      ),
    );
    const statuses = packets().filter((p) => p.type === "deliveryStatus" && p.data.messageId === "op-1");
    for (const p of statuses)
      if (p.type === "deliveryStatus") expect(p.data.platformMessageId).toBe(reply.id);

    s.send({ type: "read", ids: [reply.id] });
    await stub.waitFor(() =>
      packets().some((p) => p.type === "readStatus" && (p.data.platformMessageIds ?? []).includes(reply.id)),
    );

    // the visitor's tab closes; the next reply waits for the catch-up and is delivered then
    await s.close();
    await rpc.sendMessages({
      ...chatLine,
      messages: [{ id: "op-2", chat: { id: v.visitorId }, text: "Anything else?" }],
    });
    await stub.waitFor(() =>
      packets().some(
        (p) => p.type === "deliveryStatus" && p.data.messageId === "op-2" && p.data.status === "sent",
      ),
    );
    expect(
      packets().some(
        (p) => p.type === "deliveryStatus" && p.data.messageId === "op-2" && p.data.status === "delivered",
      ),
    ).toBe(false);
    const again = await connect(v.token, reply.seq);
    expect(await again.next("message")).toMatchObject({ from: "operator", text: "Anything else?" });
    await stub.waitFor(() =>
      packets().some(
        (p) => p.type === "deliveryStatus" && p.data.messageId === "op-2" && p.data.status === "delivered",
      ),
    );
  });

  it("passes a visitor's file to the portal as a hub link, and the operator's typing, read marks, edits and deletes to the socket", async () => {
    const r = await fetch(`${t.url}/livechat/session?line=${chatHash}`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: "{}",
    });
    const v = (await r.json()) as { visitorId: string; token: string };
    const bytes = Buffer.from("%PDF-1.4 invoice");
    const up = await fetch(`${t.url}/livechat/upload?line=${chatHash}&name=invoice.pdf`, {
      method: "POST",
      headers: { origin: ORIGIN, authorization: `Bearer ${v.token}`, "content-type": "application/pdf" },
      body: bytes,
    });
    expect(up.status).toBe(200);
    const file = (await up.json()) as { id: string };
    const s = await connect(v.token);
    s.send({ type: "message", clientId: "f1", text: "my invoice", files: [{ id: file.id }] });
    const sent = await s.next("status");
    await stub.waitFor(() => packets().some((p) => p.type === "messages" && p.data.message.id === sent.id));
    const m = packets().find((p) => p.type === "messages" && p.data.message.id === sent.id);
    if (m?.type !== "messages") throw new Error("no messages packet");
    const [link] = m.data.message.files;
    expect(link).toMatchObject({
      name: "invoice.pdf",
      type: "application/pdf",
      size: bytes.length,
      kind: "document",
    });
    expect(link.url.startsWith(`${t.url}/files/`)).toBe(true);
    const download = await fetch(link.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer())).toEqual(bytes);

    await rpc.typing({ ...chatLine, chat: { id: v.visitorId } });
    await s.next("typing");
    await rpc.markRead({ ...chatLine, chat: { id: v.visitorId }, platformMessageIds: [sent.id] });
    expect(await s.next("read")).toEqual({ type: "read", ids: [sent.id] });
    await rpc.sendMessages({
      ...chatLine,
      messages: [{ id: "op-e", chat: { id: v.visitorId }, text: "tpyo" }],
    });
    const reply = await s.next("message", (f) => f.from === "operator");
    await rpc.updateMessages({
      ...chatLine,
      messages: [{ id: "op-e", chat: { id: v.visitorId }, platformMessageId: reply.id, text: "typo" }],
    });
    expect(await s.next("edit")).toMatchObject({ id: reply.id, text: "typo" });
    await rpc.deleteMessages({
      ...chatLine,
      messages: [{ id: "op-e", chat: { id: v.visitorId }, platformMessageId: reply.id }],
    });
    expect(await s.next("delete")).toEqual({ type: "delete", id: reply.id });
  });

  it("carries a form submission to the portal as a message from a user known by email, and fails a reply", async () => {
    const post = (body: Record<string, string>) =>
      fetch(`${t.url}/form/submit?line=${formHash}`, {
        method: "POST",
        headers: {
          origin: ORIGIN,
          referer: `${ORIGIN}/contact`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams(body).toString(),
      });
    expect((await post({ name: "Bob", email: "bob@example.com", text: "Call me back" })).status).toBe(200);
    expect((await post({ email: "BOB@example.com", text: "Still waiting" })).status).toBe(200);
    expect((await post({ email: "bot@example.com", text: "spam", website: "x" })).status).toBe(200);
    await stub.waitFor(
      () => packets().filter((p) => p.type === "messages" && p.connector === "form").length >= 2,
    );
    const forms = packets().filter((p) => p.type === "messages" && p.connector === "form");
    expect(forms).toHaveLength(2);
    const [a, b] = forms;
    if (a.type !== "messages" || b.type !== "messages") throw new Error("not messages");
    expect(a.line).toBe("site-form");
    expect(a.data.user).toMatchObject({
      name: "Bob",
      email: "bob@example.com",
      pageUrl: `${ORIGIN}/contact`,
    });
    expect(b.data.user.id).toBe(a.data.user.id);
    expect(a.data.message.text).toBe("Call me back");

    await rpc.sendMessages({
      ...formLine,
      messages: [{ id: "op-f1", chat: { id: a.data.chat.id }, text: "Hi Bob" }],
    });
    await stub.waitFor(() =>
      packets().some((p) => p.type === "deliveryStatus" && p.data.messageId === "op-f1"),
    );
    const failed = packets().find((p) => p.type === "deliveryStatus" && p.data.messageId === "op-f1");
    expect(failed?.data).toMatchObject({
      status: "failed",
      reason: expect.stringMatching(/answer by email/),
    });
  });

  it("logged no errors along the way", () => {
    expect(t.errors).toEqual([]);
  });
});
