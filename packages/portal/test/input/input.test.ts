import { generateSecret, ManualClock, verifySignature } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { sql } from "kysely";
import { afterEach, beforeEach, expect, it } from "vitest";
import { takePackets } from "../../src/input/take.js";
import { packet, signedDelivery, textPacket } from "../support/hub-stub.js";
import { type CorePortal, count, startCorePortal } from "../support/portal.js";

describeEachDialect("portal input", (d) => {
  let p: CorePortal;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    p = await startCorePortal(d.url(), { clock });
  });
  afterEach(async () => p?.close());

  /** A chat on line `a` with a `deactivate` of that line between its two messages, and a chat on line `b`. */
  function twoLines(a: string, b: string) {
    const text = (line: string, text: string) =>
      textPacket({ user: `${line}-user`, chat: `${line}-chat`, text: `${line} ${text}` }, { line });
    return {
      a1: text(a, "first"),
      broken: packet("deactivate", { reason: "disabled", message: "off", at: clock.now() }, { line: a }),
      a2: text(a, "last"),
      b1: text(b, "first"),
      b2: text(b, "last"),
    };
  }

  /** Runs `fn` while a `deactivate` packet cannot be committed (its table is renamed away). */
  async function withDeactivateBroken(fn: () => Promise<void>): Promise<void> {
    await sql`ALTER TABLE line_connector_state RENAME TO line_connector_state_away`.execute(
      p.ctx.database.db,
    );
    try {
      await fn();
    } finally {
      await sql`ALTER TABLE line_connector_state_away RENAME TO line_connector_state`.execute(
        p.ctx.database.db,
      );
    }
  }

  it("takes a duplicate packet once: one message, one event, both deliveries acknowledge it", async () => {
    const pk = textPacket({ user: "dup-user", text: "once" });
    const first = await p.deliver([pk]);
    const second = await p.deliver([pk]);
    expect(first).toEqual({ status: 200, body: { taken: [pk.id] } });
    expect(second).toEqual({ status: 200, body: { taken: [pk.id] } });
    const rows = await p.ctx.database.db
      .selectFrom("message")
      .selectAll()
      .where("text", "=", "once")
      .execute();
    expect(rows).toHaveLength(1);
    expect(p.events.filter((e) => e.event === "message.received")).toHaveLength(1);
  });

  it("signs its answer with the hub secret", async () => {
    const pk = textPacket({ user: "signed-answer" });
    const { body, headers } = signedDelivery(p.hub.secret, "portal-1", "line-1", [pk], clock.now());
    const res = await p.app.inject({ method: "POST", url: "/connector/input", headers, payload: body });
    await expect(
      verifySignature({
        secrets: p.hub.secret,
        headers: res.headers as any,
        rawBody: res.body,
        now: clock.now(),
      }),
    ).resolves.toMatchObject({});
    expect(JSON.parse(res.body)).toEqual({ taken: [pk.id] });
  });

  it("takes the same packet once when two deliveries race", async () => {
    const pk = textPacket({ user: "race-user", text: "raced" });
    const [a, b] = await Promise.all([p.deliver([pk]), p.deliver([pk])]);
    expect(a.body.taken).toEqual([pk.id]);
    expect(b.body.taken).toEqual([pk.id]);
    const rows = await p.ctx.database.db
      .selectFrom("message")
      .select("id")
      .where("text", "=", "raced")
      .execute();
    expect(rows).toHaveLength(1);
  });

  it("creates one contact when the same new person writes on two lines at the same moment", async () => {
    const a = textPacket({ user: "twin", chat: "twin-chat", text: "line one" }, { line: "line-a" });
    const b = textPacket({ user: "twin", chat: "twin-chat", text: "line two" }, { line: "line-b" });
    const [ra, rb] = await Promise.all([p.deliver([a]), p.deliver([b])]);
    expect([ra.body.taken, rb.body.taken]).toEqual([[a.id], [b.id]]);
    const users = await p.ctx.database.db
      .selectFrom("external_user")
      .select("contact_id")
      .where("platform_user_id", "=", "twin")
      .execute();
    expect(users).toHaveLength(1);
    const history = await p.ctx.services.messages.history(users[0].contact_id);
    expect(history.map((m) => m.text).sort()).toEqual(["line one", "line two"]);
  });

  it("acknowledges only the packets before one that cannot be committed, and takes the rest on redelivery", async () => {
    const first = textPacket({ user: "order-1", text: "first" });
    const broken = packet("deactivate", { reason: "disabled", message: "off", at: clock.now() });
    const last = textPacket({ user: "order-1", text: "last" });
    await withDeactivateBroken(async () => {
      const res = await p.deliver([first, broken, last]);
      expect(res.body.taken).toEqual([first.id]);
    });
    const again = await p.deliver([first, broken, last]);
    expect(again.body.taken).toEqual([first.id, broken.id, last.id]);
    const texts = p.events.filter((e) => e.event === "message.received").map((e) => e.payload.message.text);
    expect(texts).toEqual(["first", "last"]);
  });

  it("goes on with the other lines of a delivery that carries several when one line's packet cannot be committed", async () => {
    const { a1, broken, a2, b1, b2 } = twoLines("line-a", "line-b");
    await withDeactivateBroken(async () => {
      // One packet of a chunk fails: the chunk is taken packet by packet; line-a stops at the
      // broken packet, line-b is taken whole.
      const res = await p.deliver([a1, b1, broken, a2, b2]);
      expect(res.body.taken).toEqual([a1.id, b1.id, b2.id]);
    });
    const again = await p.deliver([broken, a2]);
    expect(again.body.taken).toEqual([broken.id, a2.id]);
    const texts = p.events.filter((e) => e.event === "message.received").map((e) => e.payload.message.text);
    expect(texts).toEqual(["line-a first", "line-b first", "line-b last", "line-a last"]);
    // line-a's deactivation is this test's only: later tests read the line states.
    await p.ctx.database.db.deleteFrom("line_connector_state").where("line_id", "=", "line-a").execute();
  });

  it("keeps a stopped line stopped in the later chunks of a delivery", async () => {
    const { a1, broken, a2, b1, b2 } = twoLines("line-c", "line-d");
    await withDeactivateBroken(async () => {
      // Chunks of two: [a1, broken] fails and goes packet by packet; [a2, b1] must not take a2.
      expect(await takePackets(p.ctx, [a1, broken, a2, b1, b2], 2)).toEqual([a1.id, b1.id, b2.id]);
    });
  });

  it("answers 401 to a delivery signed with another secret and changes nothing", async () => {
    const before = await count(p.ctx, "taken_packet");
    const pk = textPacket({ user: "intruder", text: "forged" });
    const res = await p.deliver([pk], { secret: generateSecret() });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("SIGNATURE_MISMATCH");
    expect(await count(p.ctx, "taken_packet")).toBe(before);
    const rows = await p.ctx.database.db
      .selectFrom("message")
      .select("id")
      .where("text", "=", "forged")
      .execute();
    expect(rows).toHaveLength(0);
    expect(p.events).toHaveLength(0);
  });

  it("refuses a delivery whose timestamp is older than the replay window", async () => {
    const pk = textPacket({ user: "stale", text: "stale" });
    const res = await p.deliver([pk], { now: clock.now() - 10 * 60_000 });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("SIGNATURE_TIMESTAMP_STALE");
    expect(
      await p.ctx.database.db.selectFrom("taken_packet").select("id").where("id", "=", pk.id).execute(),
    ).toEqual([]);
  });

  it("refuses an unsigned delivery", async () => {
    const res = await p.app.inject({
      method: "POST",
      url: "/connector/input",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ version: 1, portal: "portal-1", line: "line-1", packets: [textPacket()] }),
    });
    expect(res.statusCode).toBe(401);
  });

  it("takes a packet that breaks the format as rejected, so the hub stops redelivering it", async () => {
    const good = textPacket({ user: "good", text: "fine" });
    const bad = { ...textPacket(), data: { kind: "new", chat: {} } };
    const res = await p.deliver([bad, good]);
    expect(res.body.taken).toEqual([bad.id, good.id]);
    const row = await p.ctx.database.db
      .selectFrom("taken_packet")
      .selectAll()
      .where("id", "=", bad.id)
      .executeTakeFirst();
    expect(row?.outcome).toBe("rejected");
    expect(row?.reason).toMatch(/chat/);
  });

  it("stores the message with its ledger and publishes message.received after commit", async () => {
    const pk = textPacket({ user: "ledger-user", text: "hi there" });
    await p.deliver([pk]);
    const ev = p.events.find((e) => e.event === "message.received")!;
    expect(ev.payload.message.text).toBe("hi there");
    expect(ev.payload.message.direction).toBe("in");
    expect(ev.payload.isNewChat).toBe(true);
    expect(ev.payload.chat.externalChatId).toBe("chat-ledger-user");
    expect(ev.payload.contact.name).toBe("Ann");
    const hops = (await p.ctx.services.messages.ledger(ev.payload.message.id)).map((h) => h.hop);
    expect(hops).toEqual(["received_by_hub", "delivered_to_portal", "stored"]);
    await p.deliver([textPacket({ user: "ledger-user", text: "again" })]);
    const second = p.events.filter((e) => e.event === "message.received")[1];
    expect(second.payload.isNewChat).toBe(false);
    expect(second.payload.chat.id).toBe(ev.payload.chat.id);
  });

  it("applies edits and deletes of a customer's message", async () => {
    const pk = textPacket({ user: "editor", text: "tpyo", messageId: "pm-edit-1" });
    await p.deliver([pk]);
    const edit = packet("messages", {
      kind: "edited",
      chat: { id: "chat-editor", type: "private" },
      user: { id: "editor", name: "Ann" },
      message: { id: "pm-edit-1", date: clock.now(), text: "typo", files: [] },
    });
    await p.deliver([edit]);
    const updated = p.events.find((e) => e.event === "message.updated")!;
    expect(updated.payload.message.text).toBe("typo");
    expect(updated.payload.message.editedAt).not.toBeNull();
    const del = packet("messages", {
      kind: "deleted",
      chat: { id: "chat-editor", type: "private" },
      user: { id: "editor", name: "Ann" },
      message: { id: "pm-edit-1", date: clock.now(), text: "", files: [] },
    });
    await p.deliver([del]);
    const m = await p.ctx.services.messages.get(updated.payload.message.id);
    expect(m?.deletedAt).not.toBeNull();
  });

  it("turns typing, closedByUser, welcome, deactivate and testConnection into events", async () => {
    await p.deliver([textPacket({ user: "evt", text: "hi" })]);
    const chatId = p.events.find((e) => e.event === "message.received")!.payload.chat.id;
    const user = { id: "evt", name: "Ann" };
    const res = await p.deliver([
      packet("typing", { chat: { id: "chat-evt" }, user, at: clock.now() }),
      packet("messages", {
        kind: "new",
        event: "closedByUser",
        chat: { id: "chat-evt", type: "private" },
        user,
        message: { id: "pm-close", date: clock.now(), text: "", files: [] },
      }),
      packet("messages", {
        kind: "new",
        event: "welcome",
        chat: { id: "chat-evt-2", type: "private" },
        user,
        message: { id: "pm-start", date: clock.now(), text: "", files: [] },
      }),
      packet("deactivate", {
        reason: "connectedElsewhere",
        message: "Connected to another portal",
        at: clock.now(),
      }),
      packet("testConnection", { nonce: "nonce-123456", at: clock.now() }),
    ]);
    expect(res.body.taken).toHaveLength(5);
    const names = p.events.map((e) => e.event);
    expect(names).toEqual(
      expect.arrayContaining([
        "chat.typing",
        "chat.closedByUser",
        "chat.welcome",
        "line.deactivated",
        "hub.testConnection",
      ]),
    );
    expect(p.events.find((e) => e.event === "chat.typing")!.payload.chatId).toBe(chatId);
    expect(p.events.find((e) => e.event === "line.deactivated")!.payload).toMatchObject({
      lineId: "line-1",
      connector: "telegram",
      reason: "connectedElsewhere",
    });
    const state = await p.ctx.database.db.selectFrom("line_connector_state").selectAll().execute();
    expect(state).toMatchObject([{ line_id: "line-1", status: "deactivated", reason: "connectedElsewhere" }]);
    // An administrator reconnects it through the hub: the mark is cleared.
    p.hub.answers.set("activate", { status: "active", webhookUrl: "http://hub.test/webhook?line=x" });
    await p.ctx.services.hub.activate({ line: "line-1", connector: "telegram" });
    const after = await p.ctx.database.db.selectFrom("line_connector_state").selectAll().execute();
    expect(after).toMatchObject([{ line_id: "line-1", status: "active", reason: null }]);
  });
});
