import { OpenlinesError } from "@openlines/protocol";
import { sql } from "kysely";
import type { PortalContext } from "../context.js";
import { contactView, loadContacts, newId } from "./store.js";
import type { ContactService, ContactView, MergeSuggestion } from "./types.js";

export function createContactService(ctx: PortalContext): ContactService {
  const db = ctx.database.db;

  async function get(id: string): Promise<ContactView | undefined> {
    let current = id;
    for (let i = 0; i < 16; i++) {
      const [c] = await loadContacts(db, [current]);
      if (!c?.mergedInto) return c;
      current = c.mergedInto;
    }
    return undefined;
  }

  async function list(o: { query?: string; limit?: number; offset?: number } = {}): Promise<ContactView[]> {
    let q = db.selectFrom("contact").select("id").where("merged_into", "is", null);
    if (o.query) {
      const like = `%${o.query.toLowerCase().replace(/[%_\\]/g, "")}%`;
      q = q.where((eb) =>
        eb.or([
          eb(sql`lower(name)`, "like", like),
          eb(sql`lower(email)`, "like", like),
          eb("phone", "like", like),
        ]),
      );
    }
    const rows = await q
      .orderBy("created_ms", "desc")
      .orderBy("id")
      .limit(Math.min(o.limit ?? 50, 500))
      .offset(o.offset ?? 0)
      .execute();
    return loadContacts(
      db,
      rows.map((r) => r.id),
    );
  }

  async function merge(targetId: string, sourceId: string, o: { by?: string } = {}): Promise<ContactView> {
    if (targetId === sourceId)
      throw new OpenlinesError("CONFLICT", "A contact cannot be merged into itself.");
    const now = ctx.clock.now();
    await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom("contact")
        .selectAll()
        .where("id", "in", [targetId, sourceId])
        .execute();
      const target = rows.find((r) => r.id === targetId);
      const source = rows.find((r) => r.id === sourceId);
      if (!target || !source) throw new OpenlinesError("NOT_FOUND", "No such contact.");
      if (target.merged_into || source.merged_into) {
        throw new OpenlinesError("CONFLICT", "One of the contacts was already merged into another.");
      }
      const moved = await trx
        .updateTable("external_user")
        .set({ contact_id: targetId })
        .where("contact_id", "=", sourceId)
        .executeTakeFirst();
      const chats = await trx
        .updateTable("chat")
        .set({ contact_id: targetId })
        .where("contact_id", "=", sourceId)
        .executeTakeFirst();
      const messages = await trx
        .updateTable("message")
        .set({ contact_id: targetId })
        .where("contact_id", "=", sourceId)
        .executeTakeFirst();
      await trx
        .updateTable("contact")
        .set({ merged_into: targetId, updated_ms: now })
        .where((eb) => eb.or([eb("id", "=", sourceId), eb("merged_into", "=", sourceId)]))
        .execute();
      await trx
        .updateTable("contact")
        .set({
          name: target.name ?? source.name,
          avatar_url: target.avatar_url ?? source.avatar_url,
          phone: target.phone ?? source.phone,
          phone_key: target.phone_key ?? source.phone_key,
          email: target.email ?? source.email,
          email_key: target.email_key ?? source.email_key,
          updated_ms: now,
        })
        .where("id", "=", targetId)
        .execute();
      await trx
        .insertInto("contact_merge")
        .values({
          id: newId("cm"),
          target_id: targetId,
          source_id: sourceId,
          merged_by: o.by ?? null,
          detail: JSON.stringify({
            externalUsers: Number(moved.numUpdatedRows),
            chats: Number(chats.numUpdatedRows),
            messages: Number(messages.numUpdatedRows),
          }),
          merged_ms: now,
        })
        .execute();
    });
    const target = (await get(targetId))!;
    ctx.bus.emit("contact.merged", { target, sourceId });
    ctx.bus.emit("contact.updated", { contact: target });
    return target;
  }

  async function suggestions(contactId: string): Promise<MergeSuggestion[]> {
    const c = await db.selectFrom("contact").selectAll().where("id", "=", contactId).executeTakeFirst();
    if (!c) throw new OpenlinesError("NOT_FOUND", "No such contact.");
    if (!c.phone_key && !c.email_key) return [];
    const rows = await db
      .selectFrom("contact")
      .selectAll()
      .where("merged_into", "is", null)
      .where("id", "!=", contactId)
      .where((eb) => {
        const ors = [];
        if (c.phone_key) ors.push(eb("phone_key", "=", c.phone_key));
        if (c.email_key) ors.push(eb("email_key", "=", c.email_key));
        return eb.or(ors);
      })
      .orderBy("created_ms")
      .limit(20)
      .execute();
    const views = await loadContacts(
      db,
      rows.map((r) => r.id),
    );
    return views.map((v, i) => {
      const r = rows[i];
      const by: MergeSuggestion["by"] = [];
      if (c.phone_key && r.phone_key === c.phone_key) by.push("phone");
      if (c.email_key && r.email_key === c.email_key) by.push("email");
      return { contact: v, by };
    });
  }

  return { get, list, merge, suggestions };
}

export { contactView };
