import { type Capabilities, type FileLink, isOpenlinesError, OpenlinesError } from "@openlines/protocol";
import { sortableId } from "../contacts/store.js";
import type { PortalContext } from "../context.js";
import { fileView } from "../files/service.js";
import { checkReply, refuse } from "./capabilities.js";
import { appendHop, MovesFrom, wireId } from "./ledger.js";
import {
  type LedgerEntry,
  LedgerHops,
  type MessageService,
  type MessageView,
  type SendOptions,
} from "./types.js";
import { type ChatRow, chatView, loadMessage, type MessageRow, withFiles } from "./views.js";

export interface OutboxPolicy {
  /** First retry delay after the hub could not be reached; doubles per try up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long without a hand-over the message is marked failed. Default 24 h, like the hub's queue. */
  giveUpAfterMs: number;
}

export const defaultOutboxPolicy: OutboxPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
};

/** The hub was not reached (or failed on its side): worth trying again later. */
function transient(e: unknown): boolean {
  if (!isOpenlinesError(e)) return true;
  return (
    e.code === "RPC_UNREACHABLE" ||
    e.code === "RPC_TIMEOUT" ||
    e.code === "RPC_BAD_RESPONSE" ||
    e.status >= 500
  );
}

export interface MessageServiceInternals extends MessageService {
  /** Hands one stored/unsent message to the hub; used by send, retry and the outbox. */
  handOver(messageId: string): Promise<void>;
  /** Called when a hand-over failed: the outbox re-plans its single timer. */
  onUnsent?: () => void;
}

export function createMessageService(ctx: PortalContext, policy: OutboxPolicy): MessageServiceInternals {
  const db = ctx.database.db;

  async function chatRow(chatId: string): Promise<ChatRow> {
    const c = await db.selectFrom("chat").selectAll().where("id", "=", chatId).executeTakeFirst();
    if (!c) throw new OpenlinesError("NOT_FOUND", "No such chat.");
    return c;
  }

  async function messageRow(id: string): Promise<MessageRow> {
    const m = await db.selectFrom("message").selectAll().where("id", "=", id).executeTakeFirst();
    if (!m) throw new OpenlinesError("NOT_FOUND", "No such message.");
    return m;
  }

  async function view(id: string): Promise<MessageView> {
    return (await loadMessage(db, id))!;
  }

  async function capabilities(lineId: string, connector: string): Promise<Capabilities | undefined> {
    try {
      return await ctx.services.hub.capabilities(lineId, connector);
    } catch (e) {
      ctx.log.warn(
        { err: e, lineId, connector },
        "channel capabilities unknown: the hub did not answer status",
      );
      return undefined;
    }
  }

  async function create(o: SendOptions, authorType: "operator" | "system"): Promise<MessageView> {
    const chat = await chatRow(o.chatId);
    const fileIds = o.files ?? [];
    const fileRows = fileIds.length
      ? await db.selectFrom("file").selectAll().where("id", "in", fileIds).execute()
      : [];
    const files = fileIds.map((id) => {
      const f = fileRows.find((r) => r.id === id);
      if (f?.status !== "ok") throw new OpenlinesError("NOT_FOUND", `File ${id} is not stored.`);
      return fileView(f);
    });
    const now = ctx.clock.now();
    if (!o.internal) {
      const caps = await capabilities(chat.line_id, chat.connector);
      if (caps) {
        checkReply(caps, {
          text: o.text,
          files,
          template: o.template,
          lastInboundAt: chat.last_inbound_ms === null ? null : Number(chat.last_inbound_ms),
          now,
        });
      }
    }
    let replyTo = o.replyTo ?? null;
    if (replyTo) {
      const original = await db
        .selectFrom("message")
        .select("platform_message_id")
        .where("id", "=", replyTo)
        .where("chat_id", "=", chat.id)
        .executeTakeFirst();
      if (original?.platform_message_id) replyTo = original.platform_message_id;
    }
    const id = sortableId("m", now);
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto("message")
        .values({
          id,
          chat_id: chat.id,
          contact_id: chat.contact_id,
          direction: "out",
          author_type: authorType,
          author_id: authorType === "system" ? null : o.authorId,
          text: o.text,
          status: "stored",
          platform_message_id: null,
          reply_to: replyTo,
          internal: o.internal ? 1 : 0,
          template: o.template ? JSON.stringify(o.template) : null,
          extra: null,
          attempt: o.internal ? 0 : 1,
          failure_reason: null,
          handover_tries: 0,
          next_try_ms: null,
          created_ms: now,
          edited_ms: null,
          deleted_ms: null,
        })
        .execute();
      for (const [position, fileId] of fileIds.entries()) {
        await trx.insertInto("message_file").values({ message_id: id, file_id: fileId, position }).execute();
      }
      await appendHop(trx, id, o.internal ? 0 : 1, LedgerHops.stored, now);
    });
    ctx.bus.emit("message.created", { message: await view(id) });
    if (!o.internal) await service.handOver(id);
    return view(id);
  }

  async function emitUpdated(id: string): Promise<MessageView> {
    const message = await view(id);
    ctx.bus.emit("message.updated", { message });
    return message;
  }

  async function outgoing(m: MessageRow, chat: ChatRow) {
    const fileRows = await db
      .selectFrom("message_file")
      .innerJoin("file", "file.id", "message_file.file_id")
      .selectAll("file")
      .where("message_file.message_id", "=", m.id)
      .orderBy("message_file.position")
      .execute();
    const files: FileLink[] = [];
    for (const f of fileRows) {
      const link = await ctx.services.files.publicLink(f.id);
      files.push({
        url: link.url,
        name: f.name,
        type: f.type,
        ...(f.size === null ? {} : { size: Number(f.size) }),
      });
    }
    const template = m.template ? JSON.parse(m.template) : undefined;
    return {
      id: wireId(m.id, Number(m.attempt)),
      chat: { id: chat.external_chat_id },
      text: m.text,
      files,
      ...(m.reply_to ? { replyTo: m.reply_to } : {}),
      ...(template ? { template: { parameters: [], ...template } } : {}),
    };
  }

  const service: MessageServiceInternals = {
    send: (o) => create(o, "operator"),
    sendSystem: (o) => create({ chatId: o.chatId, authorId: "system", text: o.text }, "system"),

    async handOver(messageId) {
      const m = await messageRow(messageId);
      if (Number(m.internal) === 1 || (m.status !== "stored" && m.status !== "unsent")) return;
      const chat = await chatRow(m.chat_id);
      const attempt = Number(m.attempt);
      const now = () => ctx.clock.now();
      let accepted: string[];
      try {
        const out = await outgoing(m, chat);
        const r = await ctx.services.hub.sendMessages({
          line: chat.line_id,
          connector: chat.connector,
          messages: [out],
        });
        accepted = r.accepted;
      } catch (e) {
        if (transient(e)) {
          const tries = Number(m.handover_tries) + 1;
          const giveUp = now() - Number(m.created_ms) >= policy.giveUpAfterMs;
          const delay = Math.min(policy.baseDelayMs * 2 ** (tries - 1), policy.maxDelayMs);
          const reason = (e as Error).message;
          await db.transaction().execute(async (trx) => {
            await trx
              .updateTable("message")
              .set(
                giveUp
                  ? {
                      status: "failed",
                      failure_reason: `The hub could not be reached: ${reason}`,
                      next_try_ms: null,
                      handover_tries: tries,
                    }
                  : { status: "unsent", next_try_ms: now() + delay, handover_tries: tries },
              )
              .where("id", "=", messageId)
              .where("attempt", "=", attempt)
              .where("status", "in", ["stored", "unsent"])
              .execute();
            await appendHop(
              trx,
              messageId,
              attempt,
              giveUp ? LedgerHops.failed : LedgerHops.handoverFailed,
              now(),
              reason,
            );
          });
          ctx.log.warn({ messageId, tries, err: e }, "hub not reached; the outbox will try again");
          service.onUnsent?.();
        } else {
          const reason = (e as Error).message;
          await db.transaction().execute(async (trx) => {
            await trx
              .updateTable("message")
              .set({ status: "failed", failure_reason: reason, next_try_ms: null })
              .where("id", "=", messageId)
              .where("attempt", "=", attempt)
              .where("status", "in", ["stored", "unsent"])
              .execute();
            await appendHop(trx, messageId, attempt, LedgerHops.failed, now(), reason);
          });
        }
        await emitUpdated(messageId);
        return;
      }
      const ok = accepted.includes(wireId(messageId, attempt));
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable("message")
          .set(
            ok
              ? { status: "queued", next_try_ms: null }
              : {
                  status: "failed",
                  failure_reason: "The hub did not accept the message.",
                  next_try_ms: null,
                },
          )
          .where("id", "=", messageId)
          .where("attempt", "=", attempt)
          .where("status", "in", MovesFrom.queued)
          .execute();
        await appendHop(trx, messageId, attempt, ok ? LedgerHops.queuedToHub : LedgerHops.failed, now());
      });
      await emitUpdated(messageId);
    },

    async retry(messageId) {
      const m = await messageRow(messageId);
      if (m.direction !== "out" || Number(m.internal) === 1) {
        throw new OpenlinesError("CONFLICT", "Only outgoing messages are sent again.");
      }
      if (m.status !== "failed" && m.status !== "unsent") {
        throw new OpenlinesError("CONFLICT", `The message is ${m.status}; only a failed message is retried.`);
      }
      const attempt = Number(m.attempt) + 1;
      const now = ctx.clock.now();
      await db.transaction().execute(async (trx) => {
        const r = await trx
          .updateTable("message")
          .set({
            attempt,
            status: "stored",
            failure_reason: null,
            handover_tries: 0,
            next_try_ms: null,
            platform_message_id: null,
          })
          .where("id", "=", messageId)
          .where("attempt", "=", Number(m.attempt))
          .where("status", "in", ["failed", "unsent"])
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 0)
          throw new OpenlinesError("CONFLICT", "The message changed meanwhile.");
        await appendHop(trx, messageId, attempt, LedgerHops.stored, now, "retry");
      });
      await service.handOver(messageId);
      return view(messageId);
    },

    async edit(messageId, text) {
      const m = await messageRow(messageId);
      if (m.direction !== "out") throw new OpenlinesError("CONFLICT", "Only our own messages can be edited.");
      if (m.deleted_ms !== null) throw new OpenlinesError("CONFLICT", "The message was deleted.");
      const chat = await chatRow(m.chat_id);
      if (Number(m.internal) !== 1) {
        const caps = await capabilities(chat.line_id, chat.connector);
        if (caps && !caps.edit) refuse("edit", "This channel cannot edit a sent message.");
        if (caps && text.length > caps.textMaxLength) {
          refuse(
            "textTooLong",
            `The text is longer than the channel allows (${caps.textMaxLength} characters).`,
          );
        }
        if (!m.platform_message_id) {
          throw new OpenlinesError(
            "CONFLICT",
            "The message has not reached the platform yet; it cannot be edited.",
          );
        }
        await ctx.services.hub.updateMessages({
          line: chat.line_id,
          connector: chat.connector,
          messages: [
            {
              id: wireId(m.id, Number(m.attempt)),
              chat: { id: chat.external_chat_id },
              platformMessageId: m.platform_message_id,
              text,
            },
          ],
        });
      }
      const now = ctx.clock.now();
      await db.transaction().execute(async (trx) => {
        await trx.updateTable("message").set({ text, edited_ms: now }).where("id", "=", messageId).execute();
        await appendHop(trx, messageId, Number(m.attempt), LedgerHops.edited, now);
      });
      return emitUpdated(messageId);
    },

    async remove(messageId) {
      const m = await messageRow(messageId);
      if (m.direction !== "out")
        throw new OpenlinesError("CONFLICT", "Only our own messages can be deleted.");
      if (m.deleted_ms !== null) return view(messageId);
      const chat = await chatRow(m.chat_id);
      if (Number(m.internal) !== 1 && m.platform_message_id) {
        const caps = await capabilities(chat.line_id, chat.connector);
        if (caps && !caps.delete) refuse("delete", "This channel cannot delete a sent message.");
        await ctx.services.hub.deleteMessages({
          line: chat.line_id,
          connector: chat.connector,
          messages: [
            {
              id: wireId(m.id, Number(m.attempt)),
              chat: { id: chat.external_chat_id },
              platformMessageId: m.platform_message_id,
            },
          ],
        });
      }
      const now = ctx.clock.now();
      await db.transaction().execute(async (trx) => {
        // A message never handed over is simply not sent any more.
        await trx
          .updateTable("message")
          .set({ deleted_ms: now, next_try_ms: null })
          .where("id", "=", messageId)
          .execute();
        await appendHop(trx, messageId, Number(m.attempt), LedgerHops.deleted, now);
      });
      return emitUpdated(messageId);
    },

    get: (id) => loadMessage(db, id),
    async getChat(chatId) {
      const c = await db.selectFrom("chat").selectAll().where("id", "=", chatId).executeTakeFirst();
      return c ? chatView(c) : undefined;
    },

    async history(contactId, o = {}) {
      const limit = Math.max(1, Math.min(o.limit ?? 50, 500));
      let q = db.selectFrom("message").selectAll().where("contact_id", "=", contactId);
      if (o.before !== undefined) q = q.where("created_ms", "<", o.before);
      const rows = await q.orderBy("created_ms", "desc").orderBy("id", "desc").limit(limit).execute();
      return withFiles(db, rows);
    },

    async ledger(messageId): Promise<LedgerEntry[]> {
      const rows = await db
        .selectFrom("delivery_ledger")
        .selectAll()
        .where("message_id", "=", messageId)
        .orderBy("seq")
        .execute();
      return rows.map((r) => ({
        attempt: Number(r.attempt),
        hop: r.hop as LedgerEntry["hop"],
        at: Number(r.at_ms),
        detail: r.detail,
      }));
    },

    async markRead(chatId, operatorId) {
      const chat = await chatRow(chatId);
      const rows = await db
        .selectFrom("message")
        .select(["id", "platform_message_id"])
        .where("chat_id", "=", chatId)
        .where("direction", "=", "in")
        .where("status", "=", "received")
        .execute();
      if (rows.length === 0) return;
      const now = ctx.clock.now();
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable("message")
          .set({ status: "read" })
          .where(
            "id",
            "in",
            rows.map((r) => r.id),
          )
          .where("status", "=", "received")
          .execute();
        for (const r of rows) await appendHop(trx, r.id, 0, LedgerHops.read, now, `operator ${operatorId}`);
      });
      for (const r of rows) await emitUpdated(r.id);
      const caps = await capabilities(chat.line_id, chat.connector);
      if (caps && !caps.readReceipts) return;
      const ids = rows.map((r) => r.platform_message_id).filter((x): x is string => !!x);
      try {
        for (let i = 0; i < ids.length; i += 1000) {
          await ctx.services.hub.markRead({
            line: chat.line_id,
            connector: chat.connector,
            chat: { id: chat.external_chat_id },
            platformMessageIds: ids.slice(i, i + 1000),
          });
        }
      } catch (e) {
        ctx.log.warn({ err: e, chatId }, "read mark not passed to the hub");
      }
    },

    async typing(chatId) {
      const chat = await chatRow(chatId);
      const caps = await capabilities(chat.line_id, chat.connector);
      if (caps && !caps.typing) return;
      await ctx.services.hub.typing({
        line: chat.line_id,
        connector: chat.connector,
        chat: { id: chat.external_chat_id },
      });
    },

    capabilities,
  };
  return service;
}
