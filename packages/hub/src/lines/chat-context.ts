import { OpenlinesError } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { ChatContextStore } from "../connectors/contract.js";
import type { HubDatabase } from "../store/schema.js";
import type { HubServices } from "./context.js";
import { upsert } from "./sql.js";

/**
 * The chat context of one line connector's chats (DESIGN 3.1): the connector's own data, the
 * virtual channel type of the chat, and when its customer last wrote (reply windows).
 */
export function chatContexts(hub: Pick<HubServices, "db" | "dialect" | "clock">) {
  const { db, dialect, clock } = hub;
  const get = (lineConnectorId: string, chatId: string) =>
    db
      .selectFrom("chat_context")
      .selectAll()
      .where("line_connector_id", "=", lineConnectorId)
      .where("chat_id", "=", chatId)
      .executeTakeFirst();
  return {
    get,
    /** Records an inbound message: its virtual type and time. */
    async touchInbound(
      lineConnectorId: string,
      chatId: string,
      connector: string,
      at: number,
      tx: Kysely<HubDatabase> = db,
    ) {
      const now = clock.now();
      await upsert(
        dialect,
        tx.insertInto("chat_context").values({
          line_connector_id: lineConnectorId,
          chat_id: chatId,
          connector,
          data: null,
          last_inbound_ms: at,
          updated_ms: now,
        }),
        ["line_connector_id", "chat_id"],
        { connector, last_inbound_ms: at, updated_ms: now },
      );
    },
    async deleteLine(lineConnectorId: string) {
      await db.deleteFrom("chat_context").where("line_connector_id", "=", lineConnectorId).execute();
    },
    /** The store a connector instance sees for its own data. */
    storeFor(lineConnectorId: string): ChatContextStore {
      return {
        async get<T>(chatId: string) {
          // No chat with such an id can be stored (see `set`); PostgreSQL would refuse the NUL query.
          if (chatId.length > 256 || chatId.includes("\u0000")) return undefined;
          const row = await get(lineConnectorId, chatId);
          return row?.data ? (JSON.parse(row.data) as T) : undefined;
        },
        async set(chatId, data) {
          const now = clock.now();
          const json = JSON.stringify(data);
          // Bounded like the columns (chat_id varchar(256), data text: 64 kB on MySQL): a webhook
          // carrying a 10 kB sender id was a database error and a 500 (found by fuzzing); it is the
          // sender's input, so 422 and nothing stored. PostgreSQL text refuses NUL characters too.
          if (chatId.length > 256 || chatId.includes("\u0000") || Buffer.byteLength(json) > 60_000)
            throw new OpenlinesError("VALIDATION_FAILED", "The chat's id or context is too large to keep.");
          await upsert(
            dialect,
            db.insertInto("chat_context").values({
              line_connector_id: lineConnectorId,
              chat_id: chatId,
              connector: null,
              data: json,
              last_inbound_ms: null,
              updated_ms: now,
            }),
            ["line_connector_id", "chat_id"],
            { data: json, updated_ms: now },
          );
        },
      };
    },
  };
}
export type ChatContexts = ReturnType<typeof chatContexts>;
