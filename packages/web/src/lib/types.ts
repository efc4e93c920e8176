/** The portal API's shapes as the workspace uses them (see docs/portal-api.md). */

export interface Operator {
  id: string;
  name: string;
  email: string;
  role: "admin" | "operator";
  status: "active" | "disabled";
  presence: "online" | "away" | "offline";
  maxChats: number | null;
  mustChangePassword: boolean;
}

export interface ExternalUser {
  id: string;
  connector: string;
  platformUserId: string;
  username: string | null;
  profileUrl: string | null;
}

export interface Contact {
  id: string;
  name: string | null;
  avatarUrl: string | null;
  phone: string | null;
  email: string | null;
  mergedInto: string | null;
  externalUsers: ExternalUser[];
}

export type SessionState = "queued" | "offered" | "active" | "closed";

export interface Session {
  id: string;
  chatId: string;
  lineId: string;
  contactId: string | null;
  operatorId: string | null;
  state: SessionState | string;
  openedAt: number;
  queuedAt: number;
  answeredAt: number | null;
  closedAt: number | null;
  closeReason: string | null;
  rating: number | null;
  unread: number;
  lastActivityAt: number;
}

export interface ChatListItem extends Session {
  contact: Contact | null;
  labels: string[];
  offeredToMe: boolean;
  connector: string | null;
}

export interface FileView {
  id: string;
  name: string;
  type: string;
  size: number | null;
  status: "ok" | "failed" | "pending";
  reason?: string;
}

export type MessageStatus =
  | "received"
  | "stored"
  | "unsent"
  | "queued"
  | "sent"
  | "delivered"
  | "read"
  | "failed";

export interface Message {
  id: string;
  chatId: string;
  contactId: string;
  direction: "in" | "out";
  authorType: "customer" | "operator" | "system";
  authorId: string | null;
  text: string;
  files: FileView[];
  status: MessageStatus;
  failureReason: string | null;
  replyTo: string | null;
  internal: boolean;
  attempt: number;
  createdAt: number;
  editedAt: number | null;
  deletedAt: number | null;
}

export interface LedgerEntry {
  attempt: number;
  hop: string;
  at: number;
  detail: string | null;
}

export interface Capabilities {
  edit: boolean;
  delete: boolean;
  typing: boolean;
  readReceipts: boolean;
  deliveryReceipts: boolean;
  files: { kinds: string[]; maxSizeBytes: number; maxCount: number };
  textMaxLength: number;
  replyWindowHours: number | null;
  templates: boolean;
}

export interface Chat {
  id: string;
  lineId: string;
  connector: string;
  externalChatId: string;
  contactId: string;
  type: string;
  title: string | null;
  lastInboundAt: number | null;
}

export interface ChatDetail {
  chat: Chat | null;
  contact: Contact | null;
  session: Session;
  sessions: Session[];
  labels: string[];
  /** Newest first. */
  history: Message[];
  capabilities: Capabilities | null;
}

export interface CannedAnswer {
  id: string;
  title: string;
  text: string;
  shared: boolean;
}

export interface Line {
  id: string;
  name: string;
  distribution: "roundRobin" | "all" | "leastBusy";
  maxChatsPerOperator: number | null;
  noAnswerTimeoutMs: number;
  ratingEnabled: boolean;
  welcomeText: string | null;
  operatorIds: string[];
}

export interface ConnectorType {
  type: string;
  title: string;
  settingsSchema: JsonSchema;
  capabilities: Capabilities;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  writeOnly?: boolean;
}

export interface LineConnector {
  lineId: string;
  connector: string;
  status: string;
  reason: string | null;
  webhookUrl: string | null;
}

export interface LineStatus {
  line: string;
  connector: string;
  status: string;
  reason?: string;
  webhookUrl?: string;
  account?: { id: string; name?: string };
  queue: {
    waiting: number;
    attempts: number;
    blockedUntil: number | null;
    firstFailureAt: number | null;
    deadLetters: number;
  };
}

export interface DeadLetter {
  id: string;
  connector: string;
  type: string;
  created: number;
  expiredAt: number;
  reason: string;
}
