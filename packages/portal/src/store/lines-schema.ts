import type { NumberedMigration } from "@openlines/store";
import type { Generated } from "kysely";

/**
 * Tables of accounts (operators, their sign-in sessions, API tokens), lines and the sessions
 * routed to operators. Times are bigint milliseconds; booleans are integers 0/1 (three dialects).
 * Names avoid the hub's tables (`line_connector`, `packet`…) so both can share one database.
 */
export interface OperatorTable {
  id: string;
  name: string;
  email: string;
  role: string; // admin | operator
  password_hash: string;
  status: string; // active | disabled
  presence: string; // online | away | offline
  max_chats: number | null;
  must_change_password: number;
  created_ms: number;
  updated_ms: number;
}

export interface OperatorSessionTable {
  /** sha256 of the cookie value: a leaked table does not hand out sessions. */
  id_hash: string;
  operator_id: string;
  csrf_token: string;
  created_ms: number;
  expires_ms: number;
}

export interface ApiTokenTable {
  id: string;
  operator_id: string;
  name: string;
  token_hash: string;
  created_ms: number;
  last_used_ms: number | null;
}

export interface LineTable {
  id: string;
  name: string;
  distribution: string; // roundRobin | all | leastBusy
  max_chats_per_operator: number | null;
  no_answer_timeout_ms: number;
  inactivity_timeout_ms: number;
  /** JSON `{timezone, intervals:[{day, from, to}]}` or null = always open. */
  working_hours: string | null;
  out_of_hours_text: string | null;
  welcome_text: string | null;
  rating_enabled: number;
  rating_window_ms: number;
  rating_text: string | null;
  /** JSON of QueueNoticeSettings. */
  queue_notice: string;
  /** Round robin pointer: the operator who got the last offer. */
  rr_last_operator_id: string | null;
  created_ms: number;
  updated_ms: number;
}

export interface LineOperatorTable {
  line_id: string;
  operator_id: string;
  position: number;
}

export interface LineConnectorMirrorTable {
  line_id: string;
  connector: string;
  status: string;
  reason: string | null;
  webhook_url: string | null;
  updated_ms: number;
}

export interface SessionTable {
  id: string;
  chat_id: string;
  line_id: string;
  contact_id: string | null;
  operator_id: string | null;
  state: string; // queued | offered | active | closed
  opened_ms: number;
  queued_ms: number;
  answered_ms: number | null;
  closed_ms: number | null;
  close_reason: string | null;
  last_activity_ms: number;
  inactivity_deadline_ms: number | null;
  long_wait_deadline_ms: number | null;
  rating: number | null;
  rating_deadline_ms: number | null;
  unread: number;
}

export interface SessionOfferTable {
  session_id: string;
  operator_id: string;
  state: string; // pending | expired | declined
  exclusive: number;
  offered_ms: number;
  deadline_ms: number;
}

export interface SessionEventTable {
  seq: Generated<number>;
  session_id: string;
  type: string;
  operator_id: string | null;
  data: string | null;
  at_ms: number;
}

export interface CannedAnswerTable {
  id: string;
  /** null = shared with every operator. */
  operator_id: string | null;
  title: string;
  text: string;
  created_ms: number;
  updated_ms: number;
}

export interface ChatLabelTable {
  chat_id: string;
  label: string;
}

export type LinesTables = {
  operator: OperatorTable;
  operator_session: OperatorSessionTable;
  api_token: ApiTokenTable;
  line: LineTable;
  line_operator: LineOperatorTable;
  line_connector_mirror: LineConnectorMirrorTable;
  session: SessionTable;
  session_offer: SessionOfferTable;
  session_event: SessionEventTable;
  canned_answer: CannedAnswerTable;
  chat_label: ChatLabelTable;
};

export const linesMigrations: NumberedMigration[] = [
  {
    name: "0001_lines",
    up: async (db, dialect) => {
      const autoId = (c: any) =>
        dialect === "postgres" ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement();
      const id = "varchar(64)";
      await db.schema
        .createTable("operator")
        .addColumn("id", id, (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("email", "varchar(255)", (c) => c.notNull().unique())
        .addColumn("role", "varchar(16)", (c) => c.notNull())
        .addColumn("password_hash", "varchar(512)", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("presence", "varchar(16)", (c) => c.notNull())
        .addColumn("max_chats", "integer")
        .addColumn("must_change_password", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("operator_session")
        .addColumn("id_hash", id, (c) => c.primaryKey())
        .addColumn("operator_id", id, (c) => c.notNull())
        .addColumn("csrf_token", id, (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("expires_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("operator_session_operator")
        .on("operator_session")
        .column("operator_id")
        .execute();
      await db.schema
        .createTable("api_token")
        .addColumn("id", id, (c) => c.primaryKey())
        .addColumn("operator_id", id, (c) => c.notNull())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("token_hash", id, (c) => c.notNull().unique())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("last_used_ms", "bigint")
        .execute();
      await db.schema
        .createTable("line")
        .addColumn("id", id, (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("distribution", "varchar(16)", (c) => c.notNull())
        .addColumn("max_chats_per_operator", "integer")
        .addColumn("no_answer_timeout_ms", "bigint", (c) => c.notNull())
        .addColumn("inactivity_timeout_ms", "bigint", (c) => c.notNull())
        .addColumn("working_hours", "text")
        .addColumn("out_of_hours_text", "text")
        .addColumn("welcome_text", "text")
        .addColumn("rating_enabled", "integer", (c) => c.notNull())
        .addColumn("rating_window_ms", "bigint", (c) => c.notNull())
        .addColumn("rating_text", "text")
        .addColumn("queue_notice", "text", (c) => c.notNull())
        .addColumn("rr_last_operator_id", id)
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("line_operator")
        .addColumn("line_id", id, (c) => c.notNull())
        .addColumn("operator_id", id, (c) => c.notNull())
        .addColumn("position", "integer", (c) => c.notNull())
        .addPrimaryKeyConstraint("line_operator_pk", ["line_id", "operator_id"])
        .execute();
      await db.schema
        .createIndex("line_operator_operator")
        .on("line_operator")
        .column("operator_id")
        .execute();
      await db.schema
        .createTable("line_connector_mirror")
        .addColumn("line_id", id, (c) => c.notNull())
        .addColumn("connector", id, (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("reason", "text")
        .addColumn("webhook_url", "varchar(2048)")
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("line_connector_mirror_pk", ["line_id", "connector"])
        .execute();
      await db.schema
        .createTable("session")
        .addColumn("id", id, (c) => c.primaryKey())
        .addColumn("chat_id", id, (c) => c.notNull())
        .addColumn("line_id", id, (c) => c.notNull())
        .addColumn("contact_id", id)
        .addColumn("operator_id", id)
        .addColumn("state", "varchar(16)", (c) => c.notNull())
        .addColumn("opened_ms", "bigint", (c) => c.notNull())
        .addColumn("queued_ms", "bigint", (c) => c.notNull())
        .addColumn("answered_ms", "bigint")
        .addColumn("closed_ms", "bigint")
        .addColumn("close_reason", "varchar(64)")
        .addColumn("last_activity_ms", "bigint", (c) => c.notNull())
        .addColumn("inactivity_deadline_ms", "bigint")
        .addColumn("long_wait_deadline_ms", "bigint")
        .addColumn("rating", "integer")
        .addColumn("rating_deadline_ms", "bigint")
        .addColumn("unread", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex("session_chat").on("session").columns(["chat_id", "opened_ms"]).execute();
      await db.schema.createIndex("session_line_state").on("session").columns(["line_id", "state"]).execute();
      await db.schema
        .createIndex("session_operator_state")
        .on("session")
        .columns(["operator_id", "state"])
        .execute();
      await db.schema
        .createTable("session_offer")
        .addColumn("session_id", id, (c) => c.notNull())
        .addColumn("operator_id", id, (c) => c.notNull())
        .addColumn("state", "varchar(16)", (c) => c.notNull())
        .addColumn("exclusive", "integer", (c) => c.notNull())
        .addColumn("offered_ms", "bigint", (c) => c.notNull())
        .addColumn("deadline_ms", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("session_offer_pk", ["session_id", "operator_id"])
        .execute();
      await db.schema
        .createIndex("session_offer_operator")
        .on("session_offer")
        .columns(["operator_id", "state"])
        .execute();
      await db.schema
        .createTable("session_event")
        .addColumn("seq", dialect === "sqlite" ? "integer" : "bigint", autoId)
        .addColumn("session_id", id, (c) => c.notNull())
        .addColumn("type", "varchar(32)", (c) => c.notNull())
        .addColumn("operator_id", id)
        .addColumn("data", "text")
        .addColumn("at_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex("session_event_session")
        .on("session_event")
        .columns(["session_id", "seq"])
        .execute();
      await db.schema
        .createTable("canned_answer")
        .addColumn("id", id, (c) => c.primaryKey())
        .addColumn("operator_id", id)
        .addColumn("title", "varchar(255)", (c) => c.notNull())
        .addColumn("text", "text", (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .addColumn("updated_ms", "bigint", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("chat_label")
        .addColumn("chat_id", id, (c) => c.notNull())
        .addColumn("label", "varchar(64)", (c) => c.notNull())
        .addPrimaryKeyConstraint("chat_label_pk", ["chat_id", "label"])
        .execute();
    },
  },
];
