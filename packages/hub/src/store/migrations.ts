import type { NumberedMigration } from "@openlines/store";
import { sql } from "kysely";
import { livechatMigration } from "../connectors/livechat/migration.js";

/**
 * The hub's migrations, numbered and forward-only. Each module that owns tables appends its own
 * migration here (0002_…, 0003_…); never edit one that has shipped.
 */
export const hubMigrations: NumberedMigration[] = [
  {
    name: "0001_queue",
    up: async (db, dialect) => {
      const autoId = (c: any) =>
        dialect === "sqlite"
          ? c.primaryKey().autoIncrement()
          : dialect === "postgres"
            ? c.primaryKey().generatedAlwaysAsIdentity()
            : c.primaryKey().autoIncrement();
      const bodyType = dialect === "mysql" ? sql`longtext` : sql`text`;
      // SQLite allows AUTOINCREMENT only on a column declared INTEGER (a 64-bit rowid all the same).
      const seqType = dialect === "sqlite" ? "integer" : "bigint";
      await db.schema
        .createTable("portal")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("base_url", "varchar(2048)", (c) => c.notNull())
        .addColumn("secret_enc", "text", (c) => c.notNull())
        .addColumn("state", "varchar(16)", (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("line_connector")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("portal_id", "varchar(64)", (c) => c.notNull())
        .addColumn("line_id", "varchar(255)", (c) => c.notNull())
        .addColumn("connector", "varchar(64)", (c) => c.notNull())
        .addColumn("hash", "varchar(64)", (c) => c.notNull().unique())
        .addColumn("account_key", "varchar(255)", (c) => c.unique())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("status_reason", "text")
        .addColumn("waiting", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("blocked_until", "bigint")
        .addColumn("first_failure_ms", "bigint")
        .addColumn("lease_owner", "varchar(64)")
        .addColumn("lease_until", "bigint")
        .addColumn("served_ms", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .addUniqueConstraint("line_connector_portal_line_connector", ["portal_id", "line_id", "connector"])
        .execute();
      await db.schema
        .createIndex("line_connector_ready")
        .on("line_connector")
        .columns(["waiting", "blocked_until"])
        .execute();
      await db.schema
        .createTable("connector_settings")
        .addColumn("line_connector_id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("settings_enc", "text", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("packet")
        .addColumn("seq", seqType, autoId)
        .addColumn("id", "varchar(128)", (c) => c.notNull().unique())
        .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
        .addColumn("type", "varchar(32)", (c) => c.notNull())
        .addColumn("body", bodyType, (c) => c.notNull())
        .addColumn("size", "integer", (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("sent_ms", "bigint")
        .execute();
      await db.schema
        .createIndex("packet_line_seq")
        .on("packet")
        .columns(["line_connector_id", "seq"])
        .execute();
      await db.schema
        .createTable("dead_letter")
        .addColumn("seq", seqType, autoId)
        .addColumn("id", "varchar(128)", (c) => c.notNull())
        .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
        .addColumn("portal_id", "varchar(64)", (c) => c.notNull())
        .addColumn("line_id", "varchar(255)", (c) => c.notNull())
        .addColumn("connector", "varchar(64)", (c) => c.notNull())
        .addColumn("type", "varchar(32)", (c) => c.notNull())
        .addColumn("body", bodyType, (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("expired_ms", "bigint", (c) => c.notNull())
        .addColumn("reason", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("dead_letter_portal_line")
        .on("dead_letter")
        .columns(["portal_id", "line_id", "seq"])
        .execute();
      // One counter row that wakes other hub instances on MySQL/MariaDB (queue/wake.ts).
      await db.schema
        .createTable("queue_signal")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("version", "bigint", (c) => c.notNull())
        .execute();
      await db.insertInto("queue_signal").values({ id: 1, version: 0 }).execute();
    },
  },
  { name: "0005_livechat", up: livechatMigration },
  {
    // The connector framework's tables: raw webhooks kept for re-parsing, platform-event
    // de-duplication, chat context, the outbox towards platforms, sent-message ids, seen RPC ids.
    name: "0002_hub_framework",
    up: async (db, dialect) => {
      const autoId = (c: any) =>
        dialect === "postgres" ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement();
      const bodyType = dialect === "mysql" ? sql`longtext` : sql`text`;
      const seqType = dialect === "sqlite" ? "integer" : "bigint";
      await db.schema
        .createTable("webhook_raw")
        .addColumn("seq", seqType, autoId)
        .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
        .addColumn("received_ms", "bigint", (c) => c.notNull())
        .addColumn("method", "varchar(8)", (c) => c.notNull())
        .addColumn("query", "text", (c) => c.notNull())
        .addColumn("headers", "text", (c) => c.notNull())
        .addColumn("body", bodyType, (c) => c.notNull())
        .addColumn("ip", "varchar(64)", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("webhook_raw_received").on("webhook_raw").column("received_ms").execute();
      await db.schema
        .createIndex("webhook_raw_line")
        .on("webhook_raw")
        .columns(["line_connector_id", "received_ms"])
        .execute();
      await db.schema
        .createTable("platform_event")
        .addColumn("key", "varchar(64)", (c) => c.primaryKey())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("platform_event_created")
        .on("platform_event")
        .column("created_ms")
        .execute();
      await db.schema
        .createTable("chat_context")
        .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
        .addColumn("chat_id", "varchar(256)", (c) => c.notNull())
        .addColumn("connector", "varchar(64)")
        .addColumn("data", "text")
        .addColumn("last_inbound_ms", "bigint")
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("chat_context_pk", ["line_connector_id", "chat_id"])
        .execute();
      await db.schema
        .createTable("outbox")
        .addColumn("seq", seqType, autoId)
        .addColumn("id", "varchar(255)", (c) => c.notNull().unique())
        .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
        .addColumn("kind", "varchar(16)", (c) => c.notNull())
        .addColumn("chat_id", "varchar(256)", (c) => c.notNull())
        .addColumn("message_id", "varchar(256)")
        .addColumn("body", bodyType, (c) => c.notNull())
        .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_ms", "bigint", (c) => c.notNull())
        .addColumn("last_error", "text")
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("outbox_next").on("outbox").column("next_ms").execute();
      await db.schema
        .createIndex("outbox_chat")
        .on("outbox")
        .columns(["line_connector_id", "chat_id", "seq"])
        .execute();
      await db.schema
        .createTable("sent_message")
        .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
        .addColumn("message_id", "varchar(256)", (c) => c.notNull())
        .addColumn("chat_id", "varchar(256)", (c) => c.notNull())
        .addColumn("platform_message_id", "varchar(256)", (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("sent_message_pk", ["line_connector_id", "message_id"])
        .execute();
      await db.schema
        .createTable("seen_request")
        .addColumn("id", "varchar(255)", (c) => c.primaryKey())
        .addColumn("expires_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("seen_request_expires").on("seen_request").column("expires_ms").execute();
    },
  },
  {
    // sent_message rows are kept for edits and deletes for a while, then pruned by created_ms.
    name: "0006_hub_sent_message_retention",
    up: async (db) => {
      await db.schema.createIndex("sent_message_created").on("sent_message").column("created_ms").execute();
    },
  },
  {
    // PostgreSQL: every enqueue, claim and settle updates its line's row (waiting, lease, served).
    // With no index on those columns and room left in each page, the updates are HOT (no new
    // index entries, dead versions pruned in place): the queue's biggest cost on PostgreSQL. The
    // claim reads the ready lines by a scan instead, which is cheap next to those updates.
    name: "0007_queue_hot_line_updates",
    up: async (db, dialect) => {
      if (dialect !== "postgres") return;
      await db.schema.dropIndex("line_connector_ready").execute();
      await sql`alter table line_connector set (fillfactor = 50)`.execute(db);
    },
  },
];
