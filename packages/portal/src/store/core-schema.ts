import type { NumberedMigration } from "@openlines/store";
import { type Generated, sql } from "kysely";

/**
 * Tables of input, contacts, files and messages. Times are integer milliseconds since the epoch;
 * flags are integers 0/1 (the three dialects agree on nothing else); JSON is stored as text.
 */

/** A packet the input took (or rejected), written in the same transaction as its effects. */
export interface TakenPacketTable {
  id: string;
  line_id: string;
  connector: string;
  type: string;
  /** `taken` when its effects were committed; `rejected` when it failed validation. */
  outcome: "taken" | "rejected";
  reason: string | null;
  taken_ms: number;
}

/** The state of a line connector as the hub last told it (deactivate packets). */
export interface LineConnectorStateTable {
  line_id: string;
  connector: string;
  status: "active" | "deactivated";
  reason: string | null;
  message: string | null;
  updated_ms: number;
}

export interface ContactTable {
  id: string;
  name: string | null;
  avatar_url: string | null;
  phone: string | null;
  email: string | null;
  /** Digits of the phone and lower-cased e-mail: what merge suggestions compare. */
  phone_key: string | null;
  email_key: string | null;
  /** Set when this contact was merged into another; it is then hidden from lists. */
  merged_into: string | null;
  created_ms: number;
  updated_ms: number;
}

/** One identity on one channel: (connector type, platform user id) → contact. */
export interface ExternalUserTable {
  id: string;
  connector: string;
  platform_user_id: string;
  contact_id: string;
  /** SHA-256 of the normalised profile: a contact is updated only when it changes. */
  profile_hash: string;
  profile: string;
  created_ms: number;
  updated_ms: number;
}

export interface ContactMergeTable {
  id: string;
  target_id: string;
  source_id: string;
  /** Operator who merged, if any. */
  merged_by: string | null;
  /** JSON: what moved (external users, chats, messages). */
  detail: string;
  merged_ms: number;
}

export interface ChatTable {
  id: string;
  line_id: string;
  connector: string;
  external_chat_id: string;
  contact_id: string;
  type: string;
  title: string | null;
  last_inbound_ms: number | null;
  created_ms: number;
}

export interface MessageTable {
  id: string;
  chat_id: string;
  /** Denormalised so the history across a contact's chats is one indexed query. */
  contact_id: string;
  direction: "in" | "out";
  author_type: "customer" | "operator" | "system";
  author_id: string | null;
  text: string;
  status: string;
  platform_message_id: string | null;
  reply_to: string | null;
  internal: number;
  /** JSON of the template, for outgoing template messages. */
  template: string | null;
  /** JSON of channel data with no exchange equivalent (inbound). */
  extra: string | null;
  /** Current send attempt (outgoing): 1 at first send, +1 per retry. */
  attempt: number;
  failure_reason: string | null;
  /** Hand-over to the hub: tries so far and when the outbox tries again (null = nothing to do). */
  handover_tries: number;
  next_try_ms: number | null;
  created_ms: number;
  edited_ms: number | null;
  deleted_ms: number | null;
}

export interface FileTable {
  id: string;
  name: string;
  type: string;
  size: number | null;
  /** `pending` (inbound, being downloaded), `ok`, `failed`. */
  status: "pending" | "ok" | "failed";
  reason: string | null;
  /** `inbound` (downloaded from a platform link) or `upload` (an operator's). */
  origin: "inbound" | "upload";
  source_url: string | null;
  storage_key: string | null;
  sha256: string | null;
  created_ms: number;
}

export interface MessageFileTable {
  message_id: string;
  file_id: string;
  position: number;
}

/** Public download links of files sent to platforms; only the token's hash is stored. */
export interface FileLinkTable {
  id: string;
  file_id: string;
  token_hash: string;
  expires_ms: number;
  revoked_ms: number | null;
  created_ms: number;
}

/** Every hop of a message, in order; see messages/ledger.ts for the hops. */
export interface DeliveryLedgerTable {
  seq: Generated<number>;
  message_id: string;
  attempt: number;
  hop: string;
  at_ms: number;
  detail: string | null;
}

export type CoreTables = {
  taken_packet: TakenPacketTable;
  line_connector_state: LineConnectorStateTable;
  contact: ContactTable;
  external_user: ExternalUserTable;
  contact_merge: ContactMergeTable;
  chat: ChatTable;
  message: MessageTable;
  file: FileTable;
  message_file: MessageFileTable;
  file_link: FileLinkTable;
  delivery_ledger: DeliveryLedgerTable;
};

export const coreMigrations: NumberedMigration[] = [
  {
    name: "0001_core",
    up: async (db, dialect) => {
      const autoId = (c: any) =>
        dialect === "postgres" ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement();
      const longText = dialect === "mysql" ? sql`longtext` : sql`text`;
      await db.schema
        .createTable("taken_packet")
        .addColumn("id", "varchar(256)", (c) => c.primaryKey())
        .addColumn("line_id", "varchar(255)", (c) => c.notNull())
        .addColumn("connector", "varchar(64)", (c) => c.notNull())
        .addColumn("type", "varchar(32)", (c) => c.notNull())
        .addColumn("outcome", "varchar(16)", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("taken_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("line_connector_state")
        .addColumn("line_id", "varchar(255)", (c) => c.notNull())
        .addColumn("connector", "varchar(64)", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("reason", "varchar(64)")
        .addColumn("message", "text")
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("line_connector_state_pk", ["line_id", "connector"])
        .execute();
      await db.schema
        .createTable("contact")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("name", "varchar(1024)")
        .addColumn("avatar_url", "text")
        .addColumn("phone", "varchar(64)")
        .addColumn("email", "varchar(320)")
        .addColumn("phone_key", "varchar(64)")
        .addColumn("email_key", "varchar(320)")
        .addColumn("merged_into", "varchar(64)")
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("contact_phone_key").on("contact").column("phone_key").execute();
      await db.schema.createIndex("contact_email_key").on("contact").column("email_key").execute();
      await db.schema
        .createTable("external_user")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("connector", "varchar(64)", (c) => c.notNull())
        .addColumn("platform_user_id", "varchar(256)", (c) => c.notNull())
        .addColumn("contact_id", "varchar(64)", (c) => c.notNull())
        .addColumn("profile_hash", "varchar(64)", (c) => c.notNull())
        .addColumn("profile", "text", (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .addUniqueConstraint("external_user_identity", ["connector", "platform_user_id"])
        .execute();
      await db.schema.createIndex("external_user_contact").on("external_user").column("contact_id").execute();
      await db.schema
        .createTable("contact_merge")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("target_id", "varchar(64)", (c) => c.notNull())
        .addColumn("source_id", "varchar(64)", (c) => c.notNull())
        .addColumn("merged_by", "varchar(64)")
        .addColumn("detail", "text", (c) => c.notNull())
        .addColumn("merged_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("chat")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("line_id", "varchar(255)", (c) => c.notNull())
        .addColumn("connector", "varchar(64)", (c) => c.notNull())
        .addColumn("external_chat_id", "varchar(256)", (c) => c.notNull())
        .addColumn("contact_id", "varchar(64)", (c) => c.notNull())
        .addColumn("type", "varchar(16)", (c) => c.notNull())
        .addColumn("title", "varchar(1024)")
        .addColumn("last_inbound_ms", "bigint")
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addUniqueConstraint("chat_external", ["line_id", "connector", "external_chat_id"])
        .execute();
      await db.schema.createIndex("chat_contact").on("chat").column("contact_id").execute();
      await db.schema
        .createTable("message")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("chat_id", "varchar(64)", (c) => c.notNull())
        .addColumn("contact_id", "varchar(64)", (c) => c.notNull())
        .addColumn("direction", "varchar(8)", (c) => c.notNull())
        .addColumn("author_type", "varchar(16)", (c) => c.notNull())
        .addColumn("author_id", "varchar(64)")
        .addColumn("text", longText, (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("platform_message_id", "varchar(256)")
        .addColumn("reply_to", "varchar(256)")
        .addColumn("internal", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("template", "text")
        .addColumn("extra", "text")
        .addColumn("attempt", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("failure_reason", "text")
        .addColumn("handover_tries", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("next_try_ms", "bigint")
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("edited_ms", "bigint")
        .addColumn("deleted_ms", "bigint")
        .execute();
      await db.schema
        .createIndex("message_contact_time")
        .on("message")
        .columns(["contact_id", "created_ms"])
        .execute();
      await db.schema
        .createIndex("message_chat_platform")
        .on("message")
        .columns(["chat_id", "platform_message_id"])
        .execute();
      await db.schema.createIndex("message_next_try").on("message").column("next_try_ms").execute();
      await db.schema
        .createTable("file")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("name", "varchar(1024)", (c) => c.notNull())
        .addColumn("type", "varchar(255)", (c) => c.notNull())
        .addColumn("size", "bigint")
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("origin", "varchar(16)", (c) => c.notNull())
        .addColumn("source_url", "text")
        .addColumn("storage_key", "varchar(255)")
        .addColumn("sha256", "varchar(64)")
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("message_file")
        .addColumn("message_id", "varchar(64)", (c) => c.notNull())
        .addColumn("file_id", "varchar(64)", (c) => c.notNull())
        .addColumn("position", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("message_file_pk", ["message_id", "file_id"])
        .execute();
      await db.schema
        .createTable("file_link")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("file_id", "varchar(64)", (c) => c.notNull())
        .addColumn("token_hash", "varchar(64)", (c) => c.notNull().unique())
        .addColumn("expires_ms", "bigint", (c) => c.notNull())
        .addColumn("revoked_ms", "bigint")
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("delivery_ledger")
        .addColumn("seq", dialect === "sqlite" ? "integer" : "bigint", autoId)
        .addColumn("message_id", "varchar(64)", (c) => c.notNull())
        .addColumn("attempt", "integer", (c) => c.notNull())
        .addColumn("hop", "varchar(32)", (c) => c.notNull())
        .addColumn("at_ms", "bigint", (c) => c.notNull())
        .addColumn("detail", "text")
        .execute();
      await db.schema
        .createIndex("delivery_ledger_message")
        .on("delivery_ledger")
        .columns(["message_id", "seq"])
        .execute();
    },
  },
];
