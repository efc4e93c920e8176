import type {
  DeliveryStatusPayload,
  MessagePayload,
  PacketOf,
  ReadStatusPayload,
  TypingPayload,
} from "@openlines/protocol";
import type { Kysely } from "kysely";
import { identify, loadContacts, newId, sortableId } from "../contacts/store.js";
import type { PortalContext } from "../context.js";
import { recordInboundFiles } from "../files/inbound.js";
import { fileLimits } from "../files/limits.js";
import type { PortalDatabase } from "../store/index.js";
import { appendHop, appendHops, MovesFrom, parseWireId } from "./ledger.js";
import { LedgerHops } from "./types.js";
import { type ChatRow, chatView, loadChat, loadMessage, type MessageRow, messageView } from "./views.js";

type Db = Kysely<PortalDatabase>;

/**
 * What the input does with each packet type, inside the packet's transaction. Each handler
 * returns the work to do after commit (bus events, file downloads), so nothing is announced that
 * might still roll back.
 */
export type AfterCommit = Array<() => void | Promise<void>>;

interface Envelope {
  line: string;
  connector: string;
  created: number;
}

/** After the commit: sends the stored message as it now is to whoever watches its chat. */
async function emitUpdated(ctx: PortalContext, messageId: string): Promise<void> {
  const message = await loadMessage(ctx.database.db, messageId);
  if (message) ctx.bus.emit("message.updated", { message });
}

async function findChat(trx: Db, env: Envelope, externalChatId: string) {
  return trx
    .selectFrom("chat")
    .selectAll()
    .where("line_id", "=", env.line)
    .where("connector", "=", env.connector)
    .where("external_chat_id", "=", externalChatId)
    .executeTakeFirst();
}

async function upsertChat(
  trx: Db,
  env: Envelope,
  chat: MessagePayload["chat"],
  contactId: string,
  now: number,
): Promise<{ chat: ChatRow; isNew: boolean }> {
  const existing = await findChat(trx, env, chat.id);
  if (existing) return { chat: existing, isNew: false };
  const row: ChatRow = {
    id: newId("ch"),
    line_id: env.line,
    connector: env.connector,
    external_chat_id: chat.id,
    contact_id: contactId,
    type: chat.type,
    title: chat.title ?? null,
    last_inbound_ms: null,
    created_ms: now,
  };
  await trx.insertInto("chat").values(row).execute();
  return { chat: row, isNew: true };
}

export async function takeMessage(
  ctx: PortalContext,
  trx: Db,
  packet: PacketOf<"messages">,
): Promise<AfterCommit> {
  const now = ctx.clock.now();
  const env = packet;
  const data = packet.data;
  const after: AfterCommit = [];
  const who = await identify(trx, env.connector, data.user, now);
  if (who.updated) {
    after.push(async () => {
      const [contact] = await loadContacts(ctx.database.db, [who.contactId]);
      if (contact) ctx.bus.emit("contact.updated", { contact });
    });
  }
  const { chat, isNew } = await upsertChat(trx, env, data.chat, who.contactId, now);
  const chatId = chat.id;

  if (data.kind === "edited" || data.kind === "deleted") {
    const target = await trx
      .selectFrom("message")
      .select(["id", "attempt"])
      .where("chat_id", "=", chatId)
      .where("direction", "=", "in")
      .where("platform_message_id", "=", data.message.id)
      .executeTakeFirst();
    if (!target) {
      ctx.log.info(
        { packet: packet.id, kind: data.kind },
        "edit or delete of a message never received; ignored",
      );
      return after;
    }
    if (data.kind === "edited") {
      await trx
        .updateTable("message")
        .set({ text: data.message.text, edited_ms: data.message.date || now })
        .where("id", "=", target.id)
        .execute();
    } else {
      await trx
        .updateTable("message")
        .set({ deleted_ms: data.message.date || now })
        .where("id", "=", target.id)
        .execute();
    }
    await appendHop(trx, target.id, 0, data.kind === "edited" ? LedgerHops.edited : LedgerHops.deleted, now);
    after.push(() => emitUpdated(ctx, target.id));
    return after;
  }

  if (data.event === "closedByUser") {
    after.push(() => ctx.bus.emit("chat.closedByUser", { chatId }));
    return after;
  }
  const hasContent = data.message.text.length > 0 || data.message.files.length > 0;
  if (data.event === "welcome" || data.event === "reaction" || !hasContent) {
    if (data.event === "welcome") {
      after.push(async () => {
        const [contact] = await loadContacts(ctx.database.db, [who.contactId]);
        const view = await loadChat(ctx.database.db, chatId);
        if (contact && view) ctx.bus.emit("chat.welcome", { chat: view, contact, isNewChat: isNew });
      });
    }
    if (data.event === "reaction" || !hasContent) return after;
  }

  // A new customer message (a postback is stored as the text the button carried).
  let replyTo = data.message.replyTo ?? null;
  if (replyTo) {
    const original = await trx
      .selectFrom("message")
      .select("id")
      .where("chat_id", "=", chatId)
      .where("platform_message_id", "=", replyTo)
      .executeTakeFirst();
    if (original) replyTo = original.id;
  }
  const messageId = sortableId("m", now);
  const row: MessageRow = {
    id: messageId,
    chat_id: chatId,
    contact_id: who.contactId,
    direction: "in",
    author_type: "customer",
    author_id: who.externalUserId,
    text: data.message.text,
    status: "received",
    platform_message_id: data.message.id,
    reply_to: replyTo,
    internal: 0,
    template: null,
    extra:
      data.message.extra || data.event ? JSON.stringify({ ...data.message.extra, event: data.event }) : null,
    attempt: 0,
    failure_reason: null,
    handover_tries: 0,
    next_try_ms: null,
    created_ms: now,
    edited_ms: null,
    deleted_ms: null,
  };
  await trx.insertInto("message").values(row).execute();
  await trx.updateTable("chat").set({ last_inbound_ms: now }).where("id", "=", chatId).execute();
  const files = await recordInboundFiles(
    trx,
    messageId,
    data.message.files,
    fileLimits(ctx.config.files),
    now,
  );
  await appendHops(trx, [
    { messageId, attempt: 0, hop: LedgerHops.receivedByHub, at: packet.created },
    { messageId, attempt: 0, hop: LedgerHops.deliveredToPortal, at: now, detail: `packet ${packet.id}` },
    { messageId, attempt: 0, hop: LedgerHops.stored, at: now },
  ]);
  // The views are built from what was just written: no reads after commit but the contact's.
  const message = messageView(row, files.files);
  const view = chatView({ ...chat, last_inbound_ms: now });
  after.push(async () => {
    const [contact] = await loadContacts(ctx.database.db, [who.contactId]);
    if (contact) ctx.bus.emit("message.received", { message, chat: view, contact, isNewChat: isNew });
  });
  const downloads = files.pending;
  if (downloads.length > 0) after.push(() => ctx.services.files.download(downloads));
  return after;
}

/** A delivery report for one of our outgoing messages; the status only moves forward. */
export async function takeDeliveryStatus(
  ctx: PortalContext,
  trx: Db,
  data: DeliveryStatusPayload,
): Promise<AfterCommit> {
  const { messageId, attempt } = parseWireId(data.messageId);
  const row = await trx
    .selectFrom("message")
    .select(["id", "attempt", "platform_message_id"])
    .where("id", "=", messageId)
    .where("direction", "=", "out")
    .executeTakeFirst();
  if (!row) {
    ctx.log.info({ messageId: data.messageId }, "delivery status for an unknown message; ignored");
    return [];
  }
  const current = Number(row.attempt) === attempt;
  if (data.operation === "update" || data.operation === "delete") {
    // The report of an edit or a delete: the message itself was delivered, so its status stays;
    // the ledger records whether the platform took the change, and why not.
    const hop = data.operation === "update" ? LedgerHops.edited : LedgerHops.deleted;
    const detail =
      data.status === "failed"
        ? `the platform refused the ${data.operation === "update" ? "edit" : "delete"}: ${data.reason ?? data.errorCode ?? "no reason given"}`
        : `${data.operation === "update" ? "edit" : "delete"} applied on the platform`;
    await appendHop(trx, messageId, attempt, hop, data.at, detail);
    return [() => emitUpdated(ctx, messageId)];
  }
  if (data.platformMessageId && current && row.platform_message_id === null) {
    await trx
      .updateTable("message")
      .set({ platform_message_id: data.platformMessageId })
      .where("id", "=", messageId)
      .execute();
  }
  const hop =
    data.status === "sent"
      ? LedgerHops.sentToPlatform
      : data.status === "failed"
        ? LedgerHops.failed
        : LedgerHops.delivered;
  if (!current) {
    await appendHop(trx, messageId, attempt, hop, data.at, "report of an earlier attempt");
    return [];
  }
  const moved = await trx
    .updateTable("message")
    .set({
      status: data.status,
      failure_reason: data.status === "failed" ? (data.reason ?? "The platform refused the message.") : null,
    })
    .where("id", "=", messageId)
    .where("attempt", "=", attempt)
    .where("status", "in", MovesFrom[data.status])
    .executeTakeFirst();
  if (Number(moved.numUpdatedRows) === 0) return [];
  await appendHop(
    trx,
    messageId,
    attempt,
    hop,
    data.at,
    data.status === "failed" ? (data.reason ?? data.errorCode) : null,
  );
  return [() => emitUpdated(ctx, messageId)];
}

/** The customer read our messages: listed platform ids, or everything up to a watermark. */
export async function takeReadStatus(
  ctx: PortalContext,
  trx: Db,
  env: Envelope,
  data: ReadStatusPayload,
): Promise<AfterCommit> {
  const chat = await findChat(trx, env, data.chat.id);
  if (!chat) return [];
  const ids = data.platformMessageIds ?? [];
  if (ids.length === 0 && data.watermark === undefined) return [];
  let q = trx
    .selectFrom("message")
    .select(["id", "attempt"])
    .where("chat_id", "=", chat.id)
    .where("direction", "=", "out")
    .where("status", "in", MovesFrom.read)
    .where("internal", "=", 0);
  q = q.where((eb) => {
    const ors = [];
    if (ids.length > 0) ors.push(eb("platform_message_id", "in", ids));
    if (data.watermark !== undefined) ors.push(eb("created_ms", "<=", data.watermark));
    return eb.or(ors);
  });
  const rows = await q.execute();
  if (rows.length === 0) return [];
  await trx
    .updateTable("message")
    .set({ status: "read" })
    .where(
      "id",
      "in",
      rows.map((r) => r.id),
    )
    .where("status", "in", MovesFrom.read)
    .execute();
  for (const r of rows) await appendHop(trx, r.id, Number(r.attempt), LedgerHops.read, data.at);
  return [
    async () => {
      ctx.bus.emit("chat.read", { chatId: chat.id, messageIds: rows.map((r) => r.id) });
      for (const r of rows) await emitUpdated(ctx, r.id);
    },
  ];
}

/** Typing stores nothing: it becomes an event when the chat is known. */
export async function takeTyping(
  ctx: PortalContext,
  trx: Db,
  env: Envelope,
  data: TypingPayload,
): Promise<AfterCommit> {
  const chat = await findChat(trx, env, data.chat.id);
  if (!chat) return [];
  return [() => ctx.bus.emit("chat.typing", { chatId: chat.id, contactId: chat.contact_id })];
}

export { chatView };
