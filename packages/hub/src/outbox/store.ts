import type { HubServices } from "../lines/context.js";
import { insertIgnore, upsert } from "../lines/sql.js";
import type { OutboxTable } from "../store/schema.js";

export type OutboxKind = OutboxTable["kind"];
export type OutboxRow = Omit<OutboxTable, "seq"> & { seq: number };

/** Outbox rows: one SQL operation per function. */
export function outboxStore(hub: Pick<HubServices, "db" | "dialect" | "clock">) {
  const { db, dialect, clock } = hub;
  return {
    /** Stores operations; one already stored under the same id is kept (a repeated call). */
    async insert(
      rows: {
        id: string;
        lineConnectorId: string;
        kind: OutboxKind;
        chatId: string;
        messageId?: string;
        body: unknown;
      }[],
    ) {
      const now = clock.now();
      for (const r of rows) {
        await insertIgnore(
          dialect,
          db.insertInto("outbox").values({
            id: r.id,
            line_connector_id: r.lineConnectorId,
            kind: r.kind,
            chat_id: r.chatId,
            message_id: r.messageId ?? null,
            body: JSON.stringify(r.body),
            attempts: 0,
            next_ms: now,
            last_error: null,
            created_ms: now,
          }),
        );
      }
    },
    due: (now: number, limit: number) =>
      db
        .selectFrom("outbox")
        .selectAll()
        .where("next_ms", "<=", now)
        .orderBy("seq")
        .limit(limit)
        .execute() as Promise<OutboxRow[]>,
    async earliest(): Promise<number | undefined> {
      const r = await db
        .selectFrom("outbox")
        .select((e) => e.fn.min("next_ms").as("m"))
        .executeTakeFirst();
      return r?.m == null ? undefined : Number(r.m);
    },
    /** Claims a row by moving its due time; false when another worker took it first. */
    async claim(row: OutboxRow, until: number): Promise<boolean> {
      const r = await db
        .updateTable("outbox")
        .set({ next_ms: until })
        .where("id", "=", row.id)
        .where("next_ms", "=", row.next_ms)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** An older send/update/delete of the same chat still waiting: this one must wait for it. */
    async olderInChat(row: OutboxRow): Promise<boolean> {
      const r = await db
        .selectFrom("outbox")
        .select("id")
        .where("line_connector_id", "=", row.line_connector_id)
        .where("chat_id", "=", row.chat_id)
        .where("seq", "<", row.seq)
        .where("kind", "in", ["send", "update", "delete"])
        .limit(1)
        .executeTakeFirst();
      return r !== undefined;
    },
    async reschedule(id: string, next: number, attempts: number, error: string | null) {
      await db
        .updateTable("outbox")
        .set({ next_ms: next, attempts, last_error: error })
        .where("id", "=", id)
        .execute();
    },
    async remove(id: string) {
      await db.deleteFrom("outbox").where("id", "=", id).execute();
    },
    /** The chat's waiting operations become due once the one ahead of them is done. */
    async releaseChat(lineConnectorId: string, chatId: string, now: number) {
      await db
        .updateTable("outbox")
        .set({ next_ms: now })
        .where("line_connector_id", "=", lineConnectorId)
        .where("chat_id", "=", chatId)
        .where("attempts", "=", 0)
        .where("next_ms", ">", now)
        .execute();
    },
    async rememberSent(
      lineConnectorId: string,
      messageId: string,
      chatId: string,
      platformMessageId: string,
    ) {
      await upsert(
        dialect,
        db.insertInto("sent_message").values({
          line_connector_id: lineConnectorId,
          message_id: messageId,
          chat_id: chatId,
          platform_message_id: platformMessageId,
          created_ms: clock.now(),
        }),
        ["line_connector_id", "message_id"],
        { platform_message_id: platformMessageId },
      );
    },
    async platformId(lineConnectorId: string, messageId: string): Promise<string | undefined> {
      const r = await db
        .selectFrom("sent_message")
        .select("platform_message_id")
        .where("line_connector_id", "=", lineConnectorId)
        .where("message_id", "=", messageId)
        .executeTakeFirst();
      return r?.platform_message_id;
    },
  };
}
export type OutboxStore = ReturnType<typeof outboxStore>;
