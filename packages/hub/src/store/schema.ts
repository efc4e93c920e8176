import type { Generated } from "kysely";

/**
 * The hub's tables (DESIGN 3.1). Times are integer milliseconds since the epoch.
 * Three records per connection: `portal`, `line_connector`, `connector_settings`; beside them the
 * packet queue towards portals and its dead letters. Later migrations add their own tables and
 * extend this interface.
 */
export interface PortalTable {
  id: string;
  name: string;
  base_url: string;
  /** The portal's signing secret, encrypted (settings-crypto.ts). */
  secret_enc: string;
  /** pending until a signed testConnection succeeded, then active; disabled by an administrator. */
  state: "pending" | "active" | "disabled";
  created_ms: number;
  updated_ms: number;
}

export interface LineConnectorTable {
  /** Internal id (random). */
  id: string;
  portal_id: string;
  /** The line id on the portal. */
  line_id: string;
  /** Connector type: `telegram`, `botframework.skype`, `livechat`… */
  connector: string;
  /** Random unguessable name of this connector in webhook URLs: /webhook?line=<hash>. */
  hash: string;
  /** `<account family>:<external account id>`; unique across the hub (single connection). */
  account_key: string | null;
  status: "new" | "active" | "needsAttention" | "disabled";
  status_reason: string | null;
  // --- queue state towards the portal ---
  /** Packets waiting; maintained in the same transaction as the packet rows. */
  waiting: number;
  /** Failed tries since the last success. */
  attempts: number;
  blocked_until: number | null;
  first_failure_ms: number | null;
  /** Which hub instance delivers this line now, and until when its lease holds. */
  lease_owner: string | null;
  lease_until: number | null;
  /** When a batch of this line was last finished: lines are served oldest-first (fairness). */
  served_ms: Generated<number>;
  created_ms: number;
  updated_ms: number;
}

export interface ConnectorSettingsTable {
  line_connector_id: string;
  /** JSON of the settings, AES-256-GCM encrypted with the hub's key (settings-crypto.ts). */
  settings_enc: string;
  updated_ms: number;
}

export interface PacketTable {
  /** Queue order. */
  seq: Generated<number>;
  /** The packet id the portal de-duplicates by. */
  id: string;
  line_connector_id: string;
  type: string;
  /** The whole packet as JSON (protocol Packet). */
  body: string;
  size: number;
  created_ms: number;
  /** Set while a batch holding this packet awaits an asynchronous `ack`. */
  sent_ms: number | null;
}

export interface DeadLetterTable {
  seq: Generated<number>;
  id: string;
  line_connector_id: string;
  portal_id: string;
  line_id: string;
  connector: string;
  type: string;
  body: string;
  created_ms: number;
  expired_ms: number;
  reason: string;
}

/** A single row (id 1) whose version is bumped to wake other instances where there is no NOTIFY. */
export interface QueueSignalTable {
  id: number;
  version: number;
}

export interface HubDatabase {
  portal: PortalTable;
  line_connector: LineConnectorTable;
  connector_settings: ConnectorSettingsTable;
  packet: PacketTable;
  dead_letter: DeadLetterTable;
  queue_signal: QueueSignalTable;
  webhook_raw: WebhookRawTable;
  platform_event: PlatformEventTable;
  chat_context: ChatContextTable;
  outbox: OutboxTable;
  sent_message: SentMessageTable;
  seen_request: SeenRequestTable;
}

// --- live chat (0005_livechat): connectors/livechat/store.ts ---
export interface LivechatLineTable {
  line_connector_id: string;
  /** HMAC key of this line's visitor tokens (base64url). */
  token_key: string;
  created_ms: number;
}

export interface LivechatVisitorTable {
  line_connector_id: string;
  id: string;
  name: string | null;
  email: string | null;
  page_url: string | null;
  created_ms: number;
  updated_ms: number;
}

export interface LivechatMessageTable {
  /** Global order; a visitor's catch-up asks for `seq > after`. */
  seq: Generated<number>;
  /** The message id the widget and the portal (as platform message id) use. */
  id: string;
  line_connector_id: string;
  visitor_id: string;
  direction: "in" | "out";
  /** Visitor messages: the widget's own id, so a re-sent frame is stored once. */
  client_id: string | null;
  /** Operator messages: the portal's message id, for delivery statuses. */
  portal_message_id: string | null;
  /** JSON: `{text, files}`. */
  body: string;
  status: "sent" | "delivered" | "read" | "deleted";
  at: number;
  updated_ms: number;
}

export interface LivechatFileTable {
  id: string;
  line_connector_id: string;
  visitor_id: string;
  name: string;
  type: string;
  size: number;
  created_ms: number;
}

export interface HubDatabase {
  livechat_line: LivechatLineTable;
  livechat_visitor: LivechatVisitorTable;
  livechat_message: LivechatMessageTable;
  livechat_file: LivechatFileTable;
}

// --- 0002_hub_framework: connector framework ---

/** The raw body of every accepted webhook, kept for `reparse` for a configurable time. */
export interface WebhookRawTable {
  seq: Generated<number>;
  line_connector_id: string;
  received_ms: number;
  method: string;
  /** JSON of the query string. */
  query: string;
  /** JSON of the request headers. */
  headers: string;
  /** The body, base64. */
  body: string;
  ip: string;
}

/** Platform events already queued: sha256 of (line connector id, event type, dedup key). */
export interface PlatformEventTable {
  key: string;
  created_ms: number;
}

/** What a connector remembers about an external chat, and when its customer last wrote. */
export interface ChatContextTable {
  line_connector_id: string;
  chat_id: string;
  /** Virtual channel type of the chat, when the connector has virtual channels. */
  connector: string | null;
  data: string | null;
  last_inbound_ms: number | null;
  updated_ms: number;
}

/** Outgoing operations waiting for a platform: send, update, delete, typing, markRead. */
export interface OutboxTable {
  seq: Generated<number>;
  /** Idempotency key: `<line connector id>:<kind>:<portal message id>`. */
  id: string;
  line_connector_id: string;
  kind: "send" | "update" | "delete" | "typing" | "markRead";
  chat_id: string;
  message_id: string | null;
  body: string;
  attempts: number;
  /** Due time; also the claim: a worker moves it forward while it works on the row. */
  next_ms: number;
  last_error: string | null;
  created_ms: number;
}

/** The platform id of each message the portal sent, for later edit and delete. */
export interface SentMessageTable {
  line_connector_id: string;
  message_id: string;
  chat_id: string;
  platform_message_id: string;
  created_ms: number;
}

/** Signed request ids taken inside the replay window (`<portal>:<webhook-id>`). */
export interface SeenRequestTable {
  id: string;
  expires_ms: number;
}
