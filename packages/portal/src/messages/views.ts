import type { Kysely, Selectable } from "kysely";
import { fileView } from "../files/service.js";
import type { ChatTable, MessageTable } from "../store/core-schema.js";
import type { PortalDatabase } from "../store/index.js";
import type { ChatView, FileView, MessageStatus, MessageView } from "./types.js";

type Db = Kysely<PortalDatabase>;
export type MessageRow = Selectable<MessageTable>;
export type ChatRow = Selectable<ChatTable>;

const num = (v: number | null) => (v === null ? null : Number(v));

export function chatView(c: ChatRow): ChatView {
  return {
    id: c.id,
    lineId: c.line_id,
    connector: c.connector,
    externalChatId: c.external_chat_id,
    contactId: c.contact_id,
    type: c.type,
    title: c.title,
    lastInboundAt: num(c.last_inbound_ms),
  };
}

export function messageView(m: MessageRow, files: FileView[]): MessageView {
  return {
    id: m.id,
    chatId: m.chat_id,
    contactId: m.contact_id,
    direction: m.direction,
    authorType: m.author_type,
    authorId: m.author_id,
    text: m.text,
    files,
    status: m.status as MessageStatus,
    failureReason: m.failure_reason,
    platformMessageId: m.platform_message_id,
    replyTo: m.reply_to,
    internal: Number(m.internal) === 1,
    attempt: Number(m.attempt),
    createdAt: Number(m.created_ms),
    editedAt: num(m.edited_ms),
    deletedAt: num(m.deleted_ms),
  };
}

/** Views of messages rows with their files, in the rows' order. */
export async function withFiles(db: Db, rows: MessageRow[]): Promise<MessageView[]> {
  if (rows.length === 0) return [];
  const files = await db
    .selectFrom("message_file")
    .innerJoin("file", "file.id", "message_file.file_id")
    .selectAll("file")
    .select(["message_file.message_id", "message_file.position"])
    .where(
      "message_file.message_id",
      "in",
      rows.map((r) => r.id),
    )
    .orderBy("message_file.position")
    .execute();
  return rows.map((r) =>
    messageView(
      r,
      files.filter((f) => f.message_id === r.id).map((f) => fileView(f)),
    ),
  );
}

export async function loadMessage(db: Db, id: string): Promise<MessageView | undefined> {
  const row = await db.selectFrom("message").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? (await withFiles(db, [row]))[0] : undefined;
}

export async function loadChat(db: Db, id: string): Promise<ChatView | undefined> {
  const row = await db.selectFrom("chat").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? chatView(row) : undefined;
}
