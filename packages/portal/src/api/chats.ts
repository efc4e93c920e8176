import { randomUUID } from "node:crypto";
import { OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Operator } from "../auth/accounts.js";
import { parseBody } from "../auth/validate.js";
import type { PortalContext } from "../context.js";
import { type SessionView, toSession } from "../lines/store.js";

const ChatsQuery = z.object({
  filter: z.enum(["queue", "mine", "closed"]).default("mine"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const Reply = z.object({
  text: z.string().max(100_000).default(""),
  files: z.array(z.string().min(1)).max(50).optional(),
  replyTo: z.string().min(1).optional(),
  /** An internal note for operators; never sent to the customer. */
  note: z.boolean().default(false),
  /** A channel template (WhatsApp): the one way to write once the reply window has closed. */
  template: z
    .object({
      name: z.string().min(1).max(512),
      language: z.string().min(1).max(35),
      parameters: z.array(z.string().max(1024)).max(50).optional(),
    })
    .optional(),
});
const Edit = z.object({ text: z.string().min(1).max(100_000) });
const Transfer = z
  .object({ operatorId: z.string().min(1).optional(), lineId: z.string().min(1).optional() })
  .refine((t) => t.operatorId || t.lineId, "name operatorId or lineId");
const Labels = z.object({ labels: z.array(z.string().min(1).max(64)).max(50) });
const Merge = z.object({ sourceId: z.string().min(1) });
const Canned = z.object({
  title: z.string().min(1).max(255),
  text: z.string().min(1).max(10_000),
  shared: z.boolean().default(false),
});
const Presence = z.object({ presence: z.enum(["online", "away", "offline"]) });

/**
 * The operators' workspace API: chats (sessions) and their messages, contacts, labels, canned
 * answers and presence. Message work is delegated to `ctx.services.messages`; routing to the
 * session router. Operators see sessions of their lines and their own; admins see all.
 */
export function registerChatRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const db = ctx.database.db;
  const lines = () => ctx.services.lines;
  const auth = { preHandler: app.authenticate };
  const me = (r: FastifyRequest): Operator => r.operator!;

  async function canSee(op: Operator, s: SessionView): Promise<boolean> {
    if (op.role === "admin" || s.operatorId === op.id) return true;
    return (await lines().store.linesOf(op.id)).includes(s.lineId);
  }
  async function sessionFor(op: Operator, id: string): Promise<SessionView> {
    const s = await lines().router.getSession(id);
    if (!(await canSee(op, s))) throw new OpenlinesError("FORBIDDEN", "This session is not on your lines.");
    return s;
  }
  async function chatSession(op: Operator, chatId: string): Promise<SessionView> {
    const s = await lines().router.latestOfChat(chatId);
    if (!s) throw new OpenlinesError("NOT_FOUND", "No chat has this id.");
    if (!(await canSee(op, s))) throw new OpenlinesError("FORBIDDEN", "This chat is not on your lines.");
    return s;
  }
  async function messageSession(op: Operator, messageId: string): Promise<SessionView> {
    const m = await ctx.services.messages.get(messageId);
    if (!m) throw new OpenlinesError("NOT_FOUND", "No message has this id.");
    return chatSession(op, m.chatId);
  }
  async function labelsOf(chatIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (chatIds.length === 0) return out;
    const rows = await db
      .selectFrom("chat_label")
      .selectAll()
      .where("chat_id", "in", chatIds)
      .orderBy("label")
      .execute();
    for (const r of rows) out.set(r.chat_id, [...(out.get(r.chat_id) ?? []), r.label]);
    return out;
  }
  async function withContacts(sessions: SessionView[]) {
    const chatIds = [...new Set(sessions.map((s) => s.chatId))];
    const labels = await labelsOf(chatIds);
    const connectors = new Map(
      chatIds.length
        ? (await db.selectFrom("chat").select(["id", "connector"]).where("id", "in", chatIds).execute()).map(
            (c) => [c.id, c.connector],
          )
        : [],
    );
    const contacts = new Map<string, unknown>();
    for (const s of sessions)
      if (s.contactId && !contacts.has(s.contactId))
        contacts.set(s.contactId, (await ctx.services.contacts?.get(s.contactId)) ?? null);
    return sessions.map((s) => ({
      ...s,
      contact: s.contactId ? contacts.get(s.contactId) : null,
      labels: labels.get(s.chatId) ?? [],
      connector: connectors.get(s.chatId) ?? null,
    }));
  }
  async function listSessions(op: Operator, filter: "queue" | "mine" | "closed", limit: number) {
    let q = db.selectFrom("session").selectAll();
    if (filter === "queue") {
      q = q.where("state", "in", ["queued", "offered"]);
      if (op.role !== "admin") {
        const mine = await lines().store.linesOf(op.id);
        if (mine.length === 0) return [];
        q = q.where("line_id", "in", mine);
      }
      q = q.orderBy("queued_ms").orderBy("id");
    } else if (filter === "mine") {
      q = q
        .where("state", "=", "active")
        .where("operator_id", "=", op.id)
        .orderBy("last_activity_ms", "desc");
    } else {
      q = q.where("state", "=", "closed");
      if (op.role !== "admin") q = q.where("operator_id", "=", op.id);
      q = q.orderBy("closed_ms", "desc");
    }
    return (await q.limit(limit).execute()).map(toSession);
  }

  app.get("/api/chats", auth, async (request) => {
    const q = parseBody(ChatsQuery, request.query);
    const sessions = await listSessions(me(request), q.filter, q.limit);
    const offers = await db
      .selectFrom("session_offer")
      .select("session_id")
      .where("operator_id", "=", me(request).id)
      .where("state", "=", "pending")
      .execute();
    const offered = new Set(offers.map((o) => o.session_id));
    return { chats: (await withContacts(sessions)).map((s) => ({ ...s, offeredToMe: offered.has(s.id) })) };
  });

  app.get("/api/chats/unread", auth, async (request) => {
    const mine = await listSessions(me(request), "mine", 200);
    const queue = await listSessions(me(request), "queue", 200);
    const bySession: Record<string, number> = {};
    for (const s of [...mine, ...queue]) if (s.unread > 0) bySession[s.id] = s.unread;
    return {
      mine: mine.reduce((n, s) => n + s.unread, 0),
      queue: queue.reduce((n, s) => n + s.unread, 0),
      bySession,
    };
  });

  app.get<{ Params: { chatId: string }; Querystring: { before?: string; limit?: string } }>(
    "/api/chats/:chatId",
    auth,
    async (request) => {
      const s = await chatSession(me(request), request.params.chatId);
      const chat = await ctx.services.messages.getChat(s.chatId);
      const contact = s.contactId ? ((await ctx.services.contacts.get(s.contactId)) ?? null) : null;
      const history = contact
        ? await ctx.services.messages.history(contact.id, {
            before: request.query.before ? Number(request.query.before) : undefined,
            limit: request.query.limit ? Number(request.query.limit) : undefined,
          })
        : [];
      const sessions = await db
        .selectFrom("session")
        .selectAll()
        .where("chat_id", "=", s.chatId)
        .orderBy("opened_ms", "desc")
        .limit(20)
        .execute();
      return {
        chat: chat ?? null,
        contact,
        session: s,
        sessions: sessions.map(toSession),
        events: await lines().router.events(s.id),
        offers: await lines().router.offers(s.id),
        labels: (await labelsOf([s.chatId])).get(s.chatId) ?? [],
        history,
        capabilities: chat
          ? ((await ctx.services.messages.capabilities(chat.lineId, chat.connector)) ?? null)
          : null,
      };
    },
  );

  app.post<{ Params: { chatId: string } }>("/api/chats/:chatId/messages", auth, async (request, reply) => {
    const body = parseBody(Reply, request.body);
    const op = me(request);
    let s = await chatSession(op, request.params.chatId);
    if (!body.note) {
      if (s.state === "closed")
        throw new OpenlinesError("CONFLICT", "The session is closed; the customer writes first.");
      if (s.state !== "active") s = await lines().router.take(s.id, op.id);
      else if (s.operatorId !== op.id && op.role !== "admin")
        throw new OpenlinesError("FORBIDDEN", "Another operator answers this chat; ask for a transfer.");
    }
    const message = await ctx.services.messages.send({
      chatId: s.chatId,
      authorId: op.id,
      text: body.text,
      files: body.files,
      replyTo: body.replyTo,
      internal: body.note,
      template: body.template,
    });
    if (!body.note) await lines().router.touch(s.id);
    reply.status(201);
    return { message };
  });

  app.post<{ Params: { chatId: string } }>("/api/chats/:chatId/read", auth, async (request) => {
    const s = await chatSession(me(request), request.params.chatId);
    await ctx.services.messages.markRead(s.chatId, me(request).id);
    await lines().router.markRead(s.id);
    return { ok: true };
  });

  app.post<{ Params: { chatId: string } }>("/api/chats/:chatId/typing", auth, async (request) => {
    const s = await chatSession(me(request), request.params.chatId);
    await ctx.services.messages.typing(s.chatId);
    return { ok: true };
  });

  app.put<{ Params: { chatId: string } }>("/api/chats/:chatId/labels", auth, async (request) => {
    const body = parseBody(Labels, request.body);
    const s = await chatSession(me(request), request.params.chatId);
    const labels = [...new Set(body.labels.map((l) => l.trim()).filter(Boolean))];
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom("chat_label").where("chat_id", "=", s.chatId).execute();
      if (labels.length)
        await tx
          .insertInto("chat_label")
          .values(labels.map((label) => ({ chat_id: s.chatId, label })))
          .execute();
    });
    return { labels: labels.sort() };
  });

  app.post<{ Params: { id: string } }>("/api/messages/:id/retry", auth, async (request) => {
    await messageSession(me(request), request.params.id);
    return { message: await ctx.services.messages.retry(request.params.id) };
  });
  app.patch<{ Params: { id: string } }>("/api/messages/:id", auth, async (request) => {
    const body = parseBody(Edit, request.body);
    await messageSession(me(request), request.params.id);
    return { message: await ctx.services.messages.edit(request.params.id, body.text) };
  });
  app.delete<{ Params: { id: string } }>("/api/messages/:id", auth, async (request) => {
    await messageSession(me(request), request.params.id);
    return { message: await ctx.services.messages.remove(request.params.id) };
  });
  app.get<{ Params: { id: string } }>("/api/messages/:id/ledger", auth, async (request) => {
    await messageSession(me(request), request.params.id);
    return { ledger: await ctx.services.messages.ledger(request.params.id) };
  });

  app.post<{ Params: { id: string } }>("/api/sessions/:id/take", auth, async (request) => {
    const s = await sessionFor(me(request), request.params.id);
    return { session: await lines().router.take(s.id, me(request).id) };
  });
  app.post<{ Params: { id: string } }>("/api/sessions/:id/transfer", auth, async (request) => {
    const body = parseBody(Transfer, request.body);
    const s = await sessionFor(me(request), request.params.id);
    if (s.state === "active" && s.operatorId !== me(request).id && me(request).role !== "admin")
      throw new OpenlinesError("FORBIDDEN", "Only the session's operator or an admin can transfer it.");
    return { session: await lines().router.transfer(s.id, me(request).id, body) };
  });
  app.post<{ Params: { id: string } }>("/api/sessions/:id/close", auth, async (request) => {
    const s = await sessionFor(me(request), request.params.id);
    if (s.state === "active" && s.operatorId !== me(request).id && me(request).role !== "admin")
      throw new OpenlinesError("FORBIDDEN", "Only the session's operator or an admin can close it.");
    return { session: await lines().router.close(s.id, "operator", me(request).id) };
  });

  app.get<{ Querystring: { query?: string; limit?: string; offset?: string } }>(
    "/api/contacts",
    auth,
    async (request) => ({
      contacts: await ctx.services.contacts.list({
        query: request.query.query,
        limit: request.query.limit ? Number(request.query.limit) : undefined,
        offset: request.query.offset ? Number(request.query.offset) : undefined,
      }),
    }),
  );
  app.get<{ Params: { id: string } }>("/api/contacts/:id", auth, async (request) => {
    const contact = await ctx.services.contacts.get(request.params.id);
    if (!contact) throw new OpenlinesError("NOT_FOUND", "No contact has this id.");
    return { contact };
  });
  app.get<{ Params: { id: string } }>("/api/contacts/:id/suggestions", auth, async (request) => ({
    suggestions: await ctx.services.contacts.suggestions(request.params.id),
  }));
  app.post<{ Params: { id: string } }>("/api/contacts/:id/merge", auth, async (request) => {
    const body = parseBody(Merge, request.body);
    if (body.sourceId === request.params.id)
      throw new OpenlinesError("VALIDATION_FAILED", "A contact cannot merge into itself.");
    return {
      contact: await ctx.services.contacts.merge(request.params.id, body.sourceId, { by: me(request).id }),
    };
  });

  app.get("/api/canned-answers", auth, async (request) => {
    const rows = await db
      .selectFrom("canned_answer")
      .selectAll()
      .where((eb) => eb.or([eb("operator_id", "is", null), eb("operator_id", "=", me(request).id)]))
      .orderBy("title")
      .execute();
    return { answers: rows.map(toCanned) };
  });
  app.post("/api/canned-answers", auth, async (request, reply) => {
    const body = parseBody(Canned, request.body);
    if (body.shared && me(request).role !== "admin")
      throw new OpenlinesError("FORBIDDEN", "Only an admin shares answers.");
    const row = {
      id: randomUUID(),
      operator_id: body.shared ? null : me(request).id,
      title: body.title,
      text: body.text,
      created_ms: ctx.clock.now(),
      updated_ms: ctx.clock.now(),
    };
    await db.insertInto("canned_answer").values(row).execute();
    reply.status(201);
    return { answer: toCanned(row) };
  });
  async function ownCanned(request: FastifyRequest, id: string) {
    const row = await db.selectFrom("canned_answer").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new OpenlinesError("NOT_FOUND", "No canned answer has this id.");
    const op = me(request);
    if (row.operator_id === null ? op.role !== "admin" : row.operator_id !== op.id)
      throw new OpenlinesError("FORBIDDEN", "This canned answer is not yours to change.");
    return row;
  }
  app.patch<{ Params: { id: string } }>("/api/canned-answers/:id", auth, async (request) => {
    const body = parseBody(Canned.partial(), request.body);
    const row = await ownCanned(request, request.params.id);
    const values = {
      title: body.title ?? row.title,
      text: body.text ?? row.text,
      updated_ms: ctx.clock.now(),
    };
    await db.updateTable("canned_answer").set(values).where("id", "=", row.id).execute();
    return { answer: toCanned({ ...row, ...values }) };
  });
  app.delete<{ Params: { id: string } }>("/api/canned-answers/:id", auth, async (request) => {
    const row = await ownCanned(request, request.params.id);
    await db.deleteFrom("canned_answer").where("id", "=", row.id).execute();
    return { ok: true };
  });

  app.put("/api/presence", auth, async (request) => {
    const body = parseBody(Presence, request.body);
    await lines().router.setPresence(me(request).id, body.presence);
    return { presence: body.presence };
  });
}

function toCanned(r: {
  id: string;
  operator_id: string | null;
  title: string;
  text: string;
  updated_ms: number;
}) {
  return {
    id: r.id,
    title: r.title,
    text: r.text,
    shared: r.operator_id === null,
    updatedAt: Number(r.updated_ms),
  };
}
