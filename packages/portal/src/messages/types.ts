import type { Capabilities } from "@openlines/protocol";
import type { ContactView } from "../contacts/types.js";

/**
 * The message contract other modules code against: the views, the service on
 * `ctx.services.messages` and the bus events. Text is in the exchange markup.
 */

/** Status of a message. Inbound: received → read (by an operator). Outgoing: see OutgoingStatus. */
export const MessageStatuses = {
  /** Inbound, not yet read by an operator. */
  received: "received",
  /** Outgoing, stored; not yet handed to the hub (or an internal note, which never leaves). */
  stored: "stored",
  /** Outgoing, the hub could not be reached; the outbox tries again with back-off. */
  unsent: "unsent",
  /** The hub took it (queued towards the platform). */
  queued: "queued",
  sent: "sent",
  delivered: "delivered",
  read: "read",
  failed: "failed",
} as const;
export type MessageStatus = (typeof MessageStatuses)[keyof typeof MessageStatuses];

export interface FileView {
  id: string;
  name: string;
  type: string;
  size: number | null;
  status: "ok" | "failed" | "pending";
  /** Why a download failed, in words an operator understands. */
  reason?: string;
}

export interface MessageView {
  id: string;
  chatId: string;
  contactId: string;
  direction: "in" | "out";
  authorType: "customer" | "operator" | "system";
  /** Operator id for operator messages, external user id for customer messages, null for system. */
  authorId: string | null;
  text: string;
  files: FileView[];
  status: MessageStatus;
  /** Why the last attempt failed (status failed), in the platform's words. */
  failureReason: string | null;
  platformMessageId: string | null;
  replyTo: string | null;
  /** An operators' note: stored and shown, never sent to the customer. */
  internal: boolean;
  attempt: number;
  createdAt: number;
  editedAt: number | null;
  deletedAt: number | null;
}

export interface ChatView {
  id: string;
  lineId: string;
  connector: string;
  /** The chat id on the platform. */
  externalChatId: string;
  contactId: string;
  type: string;
  title: string | null;
  lastInboundAt: number | null;
}

/** One hop of a message's journey; `attempt` counts sends (a retry is a new attempt). */
export interface LedgerEntry {
  attempt: number;
  hop: LedgerHop;
  at: number;
  detail: string | null;
}

export const LedgerHops = {
  receivedByHub: "received_by_hub",
  deliveredToPortal: "delivered_to_portal",
  stored: "stored",
  queuedToHub: "queued_to_hub",
  handoverFailed: "handover_failed",
  sentToPlatform: "sent_to_platform",
  delivered: "delivered",
  read: "read",
  failed: "failed",
  edited: "edited",
  deleted: "deleted",
} as const;
export type LedgerHop = (typeof LedgerHops)[keyof typeof LedgerHops];

export interface SendOptions {
  chatId: string;
  /** The operator who writes. */
  authorId: string;
  text: string;
  /** Ids of files stored with `files.storeUpload`. */
  files?: string[];
  /** Our message id (or a platform message id) this replies to. */
  replyTo?: string;
  /** An internal note: stored, shown to operators, never sent. */
  internal?: boolean;
  template?: { name: string; language: string; parameters?: string[] };
}

export interface HistoryOptions {
  /** Messages created strictly before this time. */
  before?: number;
  /** Default 50, at most 500. */
  limit?: number;
}

/**
 * `ctx.services.messages`. `send` refuses at once with CAPABILITY_REFUSED (details.reason) when the
 * channel forbids the reply; otherwise it stores the message, hands it to the hub and returns it.
 * If the hub cannot be reached the message is kept as `unsent` and the outbox retries it.
 */
export interface MessageService {
  send(o: SendOptions): Promise<MessageView>;
  /** A message authored by `system` (welcome, queue position, out of hours, rating question). */
  sendSystem(o: { chatId: string; text: string }): Promise<MessageView>;
  /** Sends a failed (or unsent) message again, as a new attempt. */
  retry(messageId: string): Promise<MessageView>;
  edit(messageId: string, text: string): Promise<MessageView>;
  remove(messageId: string): Promise<MessageView>;
  get(messageId: string): Promise<MessageView | undefined>;
  getChat(chatId: string): Promise<ChatView | undefined>;
  /** Newest first, across all the contact's chats (and contacts merged into it). */
  history(contactId: string, o?: HistoryOptions): Promise<MessageView[]>;
  ledger(messageId: string): Promise<LedgerEntry[]>;
  /** Marks the chat's inbound messages read by an operator and tells the platform (hub markRead). */
  markRead(chatId: string, operatorId: string): Promise<void>;
  /** Shows "typing…" to the customer, where the channel supports it. */
  typing(chatId: string): Promise<void>;
  /** The channel's capabilities (hub `status`, cached); undefined when the hub does not say. */
  capabilities(lineId: string, connector: string): Promise<Capabilities | undefined>;
}

declare module "../context.js" {
  interface PortalServices {
    messages: MessageService;
  }
}

declare module "../events/bus.js" {
  interface PortalEvents {
    /** A new inbound customer message, after commit. */
    "message.received": { message: MessageView; chat: ChatView; contact: ContactView; isNewChat: boolean };
    /** Edits, deletes, status changes (sent, delivered, read, failed), file downloads finished. */
    "message.updated": { message: MessageView };
    /** An operator's message was stored (before it is sent); for the workspace stream. */
    "message.created": { message: MessageView };
    /** The customer opened the chat (the platform's "start" / welcome event). */
    "chat.welcome": { chat: ChatView; contact: ContactView; isNewChat: boolean };
    "chat.typing": { chatId: string; contactId: string };
    "chat.closedByUser": { chatId: string };
    /** The customer read our messages up to these. */
    "chat.read": { chatId: string; messageIds: string[] };
  }
}
