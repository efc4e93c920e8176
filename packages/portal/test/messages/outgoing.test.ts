import { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { contactsModule } from "../../src/contacts/module.js";
import { filesModule } from "../../src/files/module.js";
import { hubModule } from "../../src/hub/client.js";
import { inputModule } from "../../src/input/module.js";
import { messagesModule } from "../../src/messages/module.js";
import { openCapabilities, packet, textPacket } from "../support/hub-stub.js";
import { type CorePortal, startCorePortal, until } from "../support/portal.js";

describeEachDialect("portal outgoing messages", (d) => {
  let p: CorePortal;
  let clock: ManualClock;
  let n = 0;
  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    p = await startCorePortal(d.url(), { clock });
  });
  afterEach(async () => p?.close());

  /** A chat with one inbound message, on its own line connector so capabilities can differ. */
  async function newChat(caps = openCapabilities) {
    n++;
    const line = `line-${n}-${Math.random().toString(36).slice(2, 8)}`;
    p.hub.capabilities.set(`${line}/telegram`, caps);
    await p.deliver([
      textPacket({ user: `cust-${line}`, chat: `chat-${line}`, messageId: `in-${line}` }, { line }),
    ]);
    const ev = p.events.filter((e) => e.event === "message.received").at(-1)!;
    return {
      line,
      chatId: ev.payload.chat.id as string,
      externalChatId: `chat-${line}`,
      inbound: ev.payload.message,
    };
  }

  const status = (line: string, messageId: string, s: "sent" | "delivered" | "failed", extra = {}) =>
    packet(
      "deliveryStatus",
      { chat: { id: `chat-${line}` }, messageId, status: s, at: clock.now(), ...extra },
      { line },
    );

  it("stores a reply, hands it to the hub and records each hop in the ledger", async () => {
    const { chatId, externalChatId, line } = await newChat();
    const m = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "Hello!" });
    expect(m.status).toBe("queued");
    const sent = p.hub.callsOf("sendMessages");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      line,
      connector: "telegram",
      messages: [{ id: m.id, chat: { id: externalChatId }, text: "Hello!" }],
    });
    await p.deliver([status(line, m.id, "sent", { platformMessageId: "tg-42" })]);
    await p.deliver([status(line, m.id, "delivered")]);
    const after = await p.ctx.services.messages.get(m.id);
    expect(after).toMatchObject({ status: "delivered", platformMessageId: "tg-42", authorType: "operator" });
    const hops = (await p.ctx.services.messages.ledger(m.id)).map((h) => h.hop);
    expect(hops).toEqual(["stored", "queued_to_hub", "sent_to_platform", "delivered"]);
  });

  it("moves statuses forward only: a late delivered never overwrites read", async () => {
    const { chatId, line } = await newChat();
    const m = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "status" });
    await p.deliver([status(line, m.id, "sent", { platformMessageId: "tg-fwd" })]);
    await p.deliver([
      packet(
        "readStatus",
        { chat: { id: `chat-${line}` }, platformMessageIds: ["tg-fwd"], at: clock.now() },
        { line },
      ),
    ]);
    expect((await p.ctx.services.messages.get(m.id))?.status).toBe("read");
    await p.deliver([status(line, m.id, "delivered")]);
    await p.deliver([status(line, m.id, "failed", { reason: "late failure" })]);
    expect((await p.ctx.services.messages.get(m.id))?.status).toBe("read");
    const hops = (await p.ctx.services.messages.ledger(m.id)).map((h) => h.hop);
    expect(hops).toEqual(["stored", "queued_to_hub", "sent_to_platform", "read"]);
  });

  it("marks everything up to a read watermark as read", async () => {
    const { chatId, line } = await newChat();
    const a = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "one" });
    clock.advance(10);
    const b = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "two" });
    clock.advance(10);
    await p.deliver([
      packet(
        "readStatus",
        { chat: { id: `chat-${line}` }, watermark: a.createdAt, at: clock.now() },
        { line },
      ),
    ]);
    expect((await p.ctx.services.messages.get(a.id))?.status).toBe("read");
    expect((await p.ctx.services.messages.get(b.id))?.status).toBe("queued");
  });

  it("keeps the platform's reason of a failure, and a retry really sends again as a new attempt", async () => {
    const { chatId, line } = await newChat();
    const m = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "try me" });
    await p.deliver([status(line, m.id, "failed", { reason: "Forbidden: bot was blocked by the user" })]);
    const failed = await p.ctx.services.messages.get(m.id);
    expect(failed).toMatchObject({
      status: "failed",
      failureReason: "Forbidden: bot was blocked by the user",
    });
    const retried = await p.ctx.services.messages.retry(m.id);
    expect(retried).toMatchObject({ status: "queued", attempt: 2 });
    const sends = p.hub.callsOf("sendMessages").filter((c) => c.messages[0].text === "try me");
    expect(sends).toHaveLength(2);
    expect(sends[1].messages[0].id).toBe(`${m.id}~2`);
    // A late report of the first attempt does not touch the second.
    await p.deliver([status(line, m.id, "delivered")]);
    expect((await p.ctx.services.messages.get(m.id))?.status).toBe("queued");
    await p.deliver([status(line, `${m.id}~2`, "delivered", { platformMessageId: "tg-2" })]);
    expect((await p.ctx.services.messages.get(m.id))?.status).toBe("delivered");
    const ledger = await p.ctx.services.messages.ledger(m.id);
    expect(ledger.filter((h) => h.attempt === 2).map((h) => h.hop)).toEqual([
      "stored",
      "queued_to_hub",
      "delivered",
    ]);
    await expect(p.ctx.services.messages.retry(m.id)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("keeps a reply the hub could not take as unsent and the outbox sends it when the hub is back", async () => {
    const { chatId } = await newChat();
    p.hub.down = true;
    const m = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "while down" });
    expect(m.status).toBe("unsent");
    clock.advance(1_000); // first retry, hub still down
    await until(
      async () =>
        (await p.ctx.services.messages.ledger(m.id)).filter((h) => h.hop === "handover_failed").length === 2,
      {
        what: "second hand-over failure",
      },
    );
    p.hub.down = false;
    clock.advance(2_000);
    await until(async () => (await p.ctx.services.messages.get(m.id))?.status === "queued", {
      what: "outbox hand-over",
    });
    const hops = (await p.ctx.services.messages.ledger(m.id)).map((h) => h.hop);
    expect(hops).toEqual(["stored", "handover_failed", "handover_failed", "queued_to_hub"]);
  });

  it("marks a reply failed when the hub stays unreachable past the give-up time", async () => {
    await p.close();
    p = await startCorePortal(d.url(), {
      clock,
      modules: [
        hubModule(),
        contactsModule(),
        filesModule(),
        messagesModule({ outbox: { baseDelayMs: 1_000, maxDelayMs: 1_000, giveUpAfterMs: 5_000 } }),
        inputModule(),
      ],
    });
    const { chatId } = await newChat();
    p.hub.down = true;
    const m = await p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "never" });
    expect(m.status).toBe("unsent");
    const failed = await until(
      async () => {
        clock.advance(1_000);
        const now = await p.ctx.services.messages.get(m.id);
        return now?.status === "failed" ? now : undefined;
      },
      { what: "the outbox to give up" },
    );
    expect(failed.failureReason).toMatch(/hub could not be reached/);
    const hops = (await p.ctx.services.messages.ledger(m.id)).map((h) => h.hop);
    expect(hops[0]).toBe("stored");
    expect(hops.at(-1)).toBe("failed");
    expect(hops).toContain("handover_failed");
  });

  it("refuses a reply outside the channel's reply window before storing or sending it", async () => {
    const { chatId } = await newChat({ ...openCapabilities, replyWindowHours: 24 });
    const sendsBefore = p.hub.callsOf("sendMessages").length;
    clock.advance(25 * 3_600_000);
    await expect(
      p.ctx.services.messages.send({ chatId, authorId: "op-1", text: "too late" }),
    ).rejects.toMatchObject({
      code: "CAPABILITY_REFUSED",
      details: { reason: "replyWindow" },
    });
    expect(p.hub.callsOf("sendMessages")).toHaveLength(sendsBefore);
    const stored = await p.ctx.database.db
      .selectFrom("message")
      .select("id")
      .where("text", "=", "too late")
      .execute();
    expect(stored).toEqual([]);
  });

  it("refuses a file larger than the channel allows, and too many files", async () => {
    const { chatId } = await newChat({
      ...openCapabilities,
      files: { ...openCapabilities.files, maxSizeBytes: 10, maxCount: 1 },
    });
    const big = await p.ctx.services.files.storeUpload(Buffer.alloc(11, 1), "big.bin", "application/pdf");
    const small = await p.ctx.services.files.storeUpload(Buffer.alloc(5, 2), "a.pdf", "application/pdf");
    const small2 = await p.ctx.services.files.storeUpload(Buffer.alloc(5, 3), "b.pdf", "application/pdf");
    await expect(
      p.ctx.services.messages.send({ chatId, authorId: "op", text: "", files: [big] }),
    ).rejects.toMatchObject({
      code: "CAPABILITY_REFUSED",
      details: { reason: "fileTooLarge" },
    });
    await expect(
      p.ctx.services.messages.send({ chatId, authorId: "op", text: "", files: [small, small2] }),
    ).rejects.toMatchObject({ details: { reason: "tooManyFiles" } });
    const ok = await p.ctx.services.messages.send({ chatId, authorId: "op", text: "doc", files: [small] });
    expect(ok.files.map((f) => f.name)).toEqual(["a.pdf"]);
    const out = p.hub.callsOf("sendMessages").at(-1).messages[0];
    expect(out.files[0]).toMatchObject({ name: "a.pdf", type: "application/pdf", size: 5 });
    expect(out.files[0].url).toMatch(/^http:\/\/portal\.test\/files\/public\/[A-Za-z0-9_-]{43}\//);
  });

  it("refuses an edit the channel cannot do, and sends an edit where it can", async () => {
    const noEdit = await newChat({ ...openCapabilities, edit: false });
    const m = await p.ctx.services.messages.send({ chatId: noEdit.chatId, authorId: "op", text: "fixed?" });
    await p.deliver([status(noEdit.line, m.id, "sent", { platformMessageId: "tg-e1" })]);
    await expect(p.ctx.services.messages.edit(m.id, "fixed!")).rejects.toMatchObject({
      code: "CAPABILITY_REFUSED",
      details: { reason: "edit" },
    });
    expect(p.hub.callsOf("updateMessages")).toHaveLength(0);

    const withEdit = await newChat();
    const m2 = await p.ctx.services.messages.send({ chatId: withEdit.chatId, authorId: "op", text: "tpyo" });
    await p.deliver([status(withEdit.line, m2.id, "sent", { platformMessageId: "tg-e2" })]);
    const edited = await p.ctx.services.messages.edit(m2.id, "typo");
    expect(edited.text).toBe("typo");
    expect(p.hub.callsOf("updateMessages")[0].messages[0]).toMatchObject({
      platformMessageId: "tg-e2",
      text: "typo",
    });
    const removed = await p.ctx.services.messages.remove(m2.id);
    expect(removed.deletedAt).not.toBeNull();
    expect(p.hub.callsOf("deleteMessages")[0].messages[0]).toMatchObject({ platformMessageId: "tg-e2" });
  });

  it("keeps a delivered message delivered when the platform refuses its edit, and says so in the ledger", async () => {
    const { chatId, line } = await newChat();
    const m = await p.ctx.services.messages.send({ chatId, authorId: "op", text: "first" });
    await p.deliver([status(line, m.id, "sent", { platformMessageId: "tg-op1" })]);
    await p.deliver([status(line, m.id, "delivered")]);
    await p.ctx.services.messages.edit(m.id, "second");
    await p.deliver([
      status(line, m.id, "failed", { operation: "update", reason: "message is too old to edit" }),
    ]);
    expect((await p.ctx.services.messages.get(m.id))?.status).toBe("delivered");
    const ledger = await p.ctx.services.messages.ledger(m.id);
    expect(ledger.at(-1)).toMatchObject({ hop: "edited" });
    expect(ledger.at(-1)?.detail).toContain("message is too old to edit");
  });

  it("stores internal notes without sending them, and system messages as system", async () => {
    const { chatId } = await newChat();
    const before = p.hub.callsOf("sendMessages").length;
    const note = await p.ctx.services.messages.send({
      chatId,
      authorId: "op",
      text: "VIP customer",
      internal: true,
    });
    expect(note).toMatchObject({ internal: true, status: "stored" });
    expect(p.hub.callsOf("sendMessages")).toHaveLength(before);
    const sys = await p.ctx.services.messages.sendSystem({ chatId, text: "You are number 2 in the queue." });
    expect(sys).toMatchObject({ authorType: "system", authorId: null, status: "queued" });
    expect(p.hub.callsOf("sendMessages")).toHaveLength(before + 1);
  });

  it("asks the hub for a channel's capabilities once a minute, not on every reply", async () => {
    const { chatId, line } = await newChat();
    const statusCalls = () => p.hub.callsOf("status").filter((a) => a.line === line).length;
    for (const text of ["a", "b", "c"]) await p.ctx.services.messages.send({ chatId, authorId: "op", text });
    expect(statusCalls()).toBe(1);
    clock.advance(61_000);
    await p.ctx.services.messages.send({ chatId, authorId: "op", text: "d" });
    expect(statusCalls()).toBe(2);
  });

  it("shows typing where the channel has it, and not where it has not", async () => {
    const typing = await newChat();
    await p.ctx.services.messages.typing(typing.chatId);
    expect(p.hub.callsOf("typing").at(-1)).toMatchObject({
      line: typing.line,
      chat: { id: typing.externalChatId },
    });
    const silent = await newChat({ ...openCapabilities, typing: false });
    const before = p.hub.callsOf("typing").length;
    await p.ctx.services.messages.typing(silent.chatId);
    expect(p.hub.callsOf("typing")).toHaveLength(before);
  });

  it("marks a chat read by an operator and passes the read mark to the hub", async () => {
    const { chatId, inbound, line } = await newChat();
    await p.ctx.services.messages.markRead(chatId, "op-1");
    expect((await p.ctx.services.messages.get(inbound.id))?.status).toBe("read");
    expect(p.hub.callsOf("markRead").at(-1)).toMatchObject({ line, platformMessageIds: [`in-${line}`] });
  });
});
