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
        .addColumn("seq", "bigint", autoId)
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
        .addColumn("seq", "bigint", autoId)
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
    },
  },
  { name: "0005_livechat", up: livechatMigration },
];
