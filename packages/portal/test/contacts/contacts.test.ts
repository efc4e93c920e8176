import { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { textPacket } from "../support/hub-stub.js";
import { type CorePortal, startCorePortal } from "../support/portal.js";

describeEachDialect("portal contacts", (d) => {
  let p: CorePortal;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(Date.now());
    p = await startCorePortal(d.url(), { clock });
  });
  afterEach(async () => p?.close());

  const contactOf = async (user: string, connector = "telegram") => {
    const row = await p.ctx.database.db
      .selectFrom("external_user")
      .selectAll()
      .where("connector", "=", connector)
      .where("platform_user_id", "=", user)
      .executeTakeFirstOrThrow();
    return row;
  };

  it("creates a contact once for an external user, however many messages they send", async () => {
    await p.deliver([textPacket({ user: "once-1", text: "a" }), textPacket({ user: "once-1", text: "b" })]);
    await p.deliver([textPacket({ user: "once-1", text: "c" })]);
    const rows = await p.ctx.database.db
      .selectFrom("external_user")
      .select("contact_id")
      .where("platform_user_id", "=", "once-1")
      .execute();
    expect(rows).toHaveLength(1);
    const msgs = await p.ctx.services.messages.history(rows[0].contact_id);
    expect(msgs.map((m) => m.text)).toEqual(["c", "b", "a"]);
  });

  it("updates the contact only when the profile hash changes", async () => {
    await p.deliver([textPacket({ user: "hash-1", profile: { name: "Ann", phone: "+1 555 0100" } })]);
    const first = await contactOf("hash-1");
    clock.advance(1000);
    // Same profile, keys in another order: no write, no event.
    await p.deliver([textPacket({ user: "hash-1", profile: { phone: "+1 555 0100", name: "Ann" } })]);
    expect((await contactOf("hash-1")).updated_ms).toBe(first.updated_ms);
    expect(p.events.filter((e) => e.event === "contact.updated")).toHaveLength(0);
    clock.advance(1000);
    await p.deliver([textPacket({ user: "hash-1", profile: { name: "Ann Smith", phone: "+1 555 0100" } })]);
    const after = await contactOf("hash-1");
    expect(after.profile_hash).not.toBe(first.profile_hash);
    const contact = await p.ctx.services.contacts.get(after.contact_id);
    expect(contact?.name).toBe("Ann Smith");
    expect(p.events.filter((e) => e.event === "contact.updated")).toHaveLength(1);
  });

  it("suggests merging contacts whose phone or e-mail match, and merges them with their history", async () => {
    await p.deliver([
      textPacket({
        user: "tg-bob",
        text: "from telegram",
        profile: { name: "Bob", phone: "+7 900 123-45-67" },
      }),
    ]);
    await p.deliver([
      textPacket(
        {
          user: "wa-bob",
          chat: "wa-chat-bob",
          text: "from whatsapp",
          profile: { name: "Bob W", phone: "79001234567" },
        },
        { connector: "whatsapp" },
      ),
    ]);
    await p.deliver([textPacket({ user: "other", profile: { name: "Eve", email: "eve@example.com" } })]);
    const tg = (await contactOf("tg-bob")).contact_id;
    const wa = (await contactOf("wa-bob", "whatsapp")).contact_id;
    const suggestions = await p.ctx.services.contacts.suggestions(tg);
    expect(suggestions.map((s) => [s.contact.id, s.by])).toEqual([[wa, ["phone"]]]);

    const merged = await p.ctx.services.contacts.merge(tg, wa, { by: "op-1" });
    expect(merged.externalUsers.map((u) => u.connector).sort()).toEqual(["telegram", "whatsapp"]);
    const history = await p.ctx.services.messages.history(tg);
    expect(history.map((m) => m.text).sort()).toEqual(["from telegram", "from whatsapp"]);
    expect((await p.ctx.services.contacts.get(wa))?.id).toBe(tg);
    expect((await p.ctx.services.contacts.list()).map((c) => c.id)).not.toContain(wa);
    expect(await p.ctx.services.contacts.suggestions(tg)).toEqual([]);
    const record = await p.ctx.database.db
      .selectFrom("contact_merge")
      .selectAll()
      .where("target_id", "=", tg)
      .execute();
    expect(record).toHaveLength(1);
    expect(JSON.parse(record[0].detail)).toMatchObject({ externalUsers: 1, chats: 1, messages: 1 });
    // A later message from the merged identity lands on the target contact.
    await p.deliver([
      textPacket({ user: "wa-bob", chat: "wa-chat-bob", text: "later" }, { connector: "whatsapp" }),
    ]);
    expect((await p.ctx.services.messages.history(tg)).map((m) => m.text)).toContain("later");
    await expect(p.ctx.services.contacts.merge(tg, wa)).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("suggests by e-mail regardless of case", async () => {
    await p.deliver([textPacket({ user: "mail-1", profile: { email: "Carol@Example.com" } })]);
    await p.deliver([textPacket({ user: "mail-2", profile: { email: "carol@example.com " } })]);
    const a = (await contactOf("mail-1")).contact_id;
    const b = (await contactOf("mail-2")).contact_id;
    expect((await p.ctx.services.contacts.suggestions(a)).map((s) => [s.contact.id, s.by])).toEqual([
      [b, ["email"]],
    ]);
  });
});
