import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * Migration 0005_livechat: the live chat's own tables — a token key per line, visitors, the
 * conversation of each visitor (for reconnect catch-up) and the files visitors uploaded.
 */
export async function livechatMigration(db: Kysely<any>, dialect: "sqlite" | "postgres" | "mysql") {
  const autoId = (c: any) =>
    dialect === "postgres" ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement();
  const bodyType = dialect === "mysql" ? sql`longtext` : sql`text`;
  await db.schema
    .createTable("livechat_line")
    .addColumn("line_connector_id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("token_key", "varchar(128)", (c) => c.notNull())
    .addColumn("created_ms", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("livechat_visitor")
    .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
    .addColumn("id", "varchar(64)", (c) => c.notNull())
    .addColumn("name", "varchar(1024)")
    .addColumn("email", "varchar(320)")
    .addColumn("page_url", "varchar(4096)")
    .addColumn("created_ms", "bigint", (c) => c.notNull())
    .addColumn("updated_ms", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("livechat_visitor_pk", ["line_connector_id", "id"])
    .execute();
  await db.schema
    .createTable("livechat_message")
    .addColumn("seq", dialect === "sqlite" ? "integer" : "bigint", autoId)
    .addColumn("id", "varchar(64)", (c) => c.notNull().unique())
    .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
    .addColumn("visitor_id", "varchar(64)", (c) => c.notNull())
    .addColumn("direction", "varchar(8)", (c) => c.notNull())
    .addColumn("client_id", "varchar(128)")
    .addColumn("portal_message_id", "varchar(256)")
    .addColumn("body", bodyType, (c) => c.notNull())
    .addColumn("status", "varchar(16)", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .addColumn("updated_ms", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("livechat_message_visitor_seq")
    .on("livechat_message")
    .columns(["line_connector_id", "visitor_id", "seq"])
    .execute();
  await db.schema
    .createIndex("livechat_message_client")
    .on("livechat_message")
    .columns(["line_connector_id", "visitor_id", "client_id"])
    .execute();
  await db.schema
    .createTable("livechat_file")
    .addColumn("id", "varchar(64)", (c) => c.primaryKey())
    .addColumn("line_connector_id", "varchar(64)", (c) => c.notNull())
    .addColumn("visitor_id", "varchar(64)", (c) => c.notNull())
    .addColumn("name", "varchar(1024)", (c) => c.notNull())
    .addColumn("type", "varchar(255)", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("created_ms", "bigint", (c) => c.notNull())
    .execute();
}
