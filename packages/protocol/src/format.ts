import { z } from "zod";

/**
 * The exchange format, version 1: what the hub sends to a portal. Both services import these
 * schemas; nothing else defines the wire shape. A breaking change bumps FORMAT_VERSION.
 * Times are milliseconds since the epoch (UTC). Text is in the exchange markup (markup.ts).
 */
export const FORMAT_VERSION = 1 as const;

export const PacketTypes = {
  messages: "messages",
  deliveryStatus: "deliveryStatus",
  readStatus: "readStatus",
  typing: "typing",
  deactivate: "deactivate",
  testConnection: "testConnection",
} as const;
export type PacketType = (typeof PacketTypes)[keyof typeof PacketTypes];

// No NUL: PostgreSQL text refuses it, so an id holding one could never be stored or looked up
// (a call or webhook carrying one was a 500: found by the fuzz sweeps).
const id = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !s.includes("\u0000"), "must not contain a NUL character");
const time = z.number().int().nonnegative();

/** The chat on the platform: a private dialog or a group. */
export const Chat = z.object({
  id,
  type: z.enum(["private", "group", "channel"]).default("private"),
  title: z.string().max(1024).optional(),
});
export type Chat = z.infer<typeof Chat>;

/** The external user's profile as the platform tells it; the portal hashes it to spot changes. */
export const UserProfile = z.object({
  id,
  name: z.string().max(1024).optional(),
  firstName: z.string().max(512).optional(),
  lastName: z.string().max(512).optional(),
  username: z.string().max(512).optional(),
  avatarUrl: z.string().url().optional(),
  phone: z.string().max(64).optional(),
  email: z.string().max(320).optional(),
  language: z.string().max(35).optional(),
  profileUrl: z.string().url().optional(),
  pageUrl: z.string().max(4096).optional(),
  bot: z.boolean().optional(),
});
export type UserProfile = z.infer<typeof UserProfile>;

/** A file stays a link: the portal downloads it itself. */
export const FileLink = z.object({
  url: z.string().url(),
  name: z.string().min(1).max(1024),
  type: z.string().max(255).default("application/octet-stream"),
  size: z.number().int().nonnegative().optional(),
  kind: z.enum(["image", "video", "audio", "voice", "sticker", "document", "other"]).optional(),
});
export type FileLink = z.infer<typeof FileLink>;

export const MessageKinds = { new: "new", edited: "edited", deleted: "deleted" } as const;

/** Payload of a `messages` packet: one message event from a customer's chat. */
export const MessagePayload = z.object({
  kind: z.enum(["new", "edited", "deleted"]),
  chat: Chat,
  user: UserProfile,
  message: z.object({
    /** The platform's message id: needed to edit, delete, reply, mark read. */
    id,
    date: time,
    text: z.string().max(100_000).default(""),
    files: z.array(FileLink).max(50).default([]),
    replyTo: id.optional(),
    /** Channel data with no exchange equivalent (location, contact card, button payload...). */
    extra: z.record(z.string(), z.unknown()).optional(),
  }),
  /** A platform event that is not a message but that the portal should see (welcome, blocked...). */
  event: z.enum(["welcome", "closedByUser", "reaction", "postback"]).optional(),
});
export type MessagePayload = z.infer<typeof MessagePayload>;

export const DeliveryStatusPayload = z.object({
  chat: z.object({ id }),
  /** The portal's own id of the message it sent. */
  messageId: id,
  status: z.enum(["sent", "delivered", "failed"]),
  platformMessageId: id.optional(),
  /** For `failed`: why, in words an operator understands. */
  reason: z.string().max(2000).optional(),
  /** Which operation on the message this status is about; absent means the send itself. */
  operation: z.enum(["send", "update", "delete"]).optional(),
  errorCode: z.string().max(128).optional(),
  at: time,
});
export type DeliveryStatusPayload = z.infer<typeof DeliveryStatusPayload>;

export const ReadStatusPayload = z.object({
  chat: z.object({ id }),
  /** Platform ids read by the customer; or a watermark: everything sent up to this time. */
  platformMessageIds: z.array(id).max(1000).optional(),
  watermark: time.optional(),
  at: time,
});
export type ReadStatusPayload = z.infer<typeof ReadStatusPayload>;

export const TypingPayload = z.object({ chat: z.object({ id }), user: UserProfile, at: time });
export type TypingPayload = z.infer<typeof TypingPayload>;

export const DeactivateReasons = {
  connectedElsewhere: "connectedElsewhere",
  credentialsRevoked: "credentialsRevoked",
  webhookLost: "webhookLost",
  disabled: "disabled",
} as const;

export const DeactivatePayload = z.object({
  reason: z.enum(["connectedElsewhere", "credentialsRevoked", "webhookLost", "disabled"]),
  message: z.string().max(2000),
  at: time,
});
export type DeactivatePayload = z.infer<typeof DeactivatePayload>;

export const TestConnectionPayload = z.object({ nonce: z.string().min(8).max(128), at: time });
export type TestConnectionPayload = z.infer<typeof TestConnectionPayload>;

const envelope = {
  /** Stable packet id: the portal drops a packet whose id it has already taken. */
  id,
  version: z.literal(FORMAT_VERSION),
  portal: id,
  /** The line id on the portal. */
  line: id,
  /** Connector type, e.g. `telegram`, `botframework.skype`. */
  connector: z.string().min(1).max(64),
  created: time,
};

export const Packet = z.discriminatedUnion("type", [
  z.object({ ...envelope, type: z.literal("messages"), data: MessagePayload }),
  z.object({ ...envelope, type: z.literal("deliveryStatus"), data: DeliveryStatusPayload }),
  z.object({ ...envelope, type: z.literal("readStatus"), data: ReadStatusPayload }),
  z.object({ ...envelope, type: z.literal("typing"), data: TypingPayload }),
  z.object({ ...envelope, type: z.literal("deactivate"), data: DeactivatePayload }),
  z.object({ ...envelope, type: z.literal("testConnection"), data: TestConnectionPayload }),
]);
export type Packet = z.infer<typeof Packet>;
export type PacketOf<T extends PacketType> = Extract<Packet, { type: T }>;

/**
 * The body of one hub → portal delivery: the oldest packets of one or more of the portal's lines,
 * each line's packets oldest first. `line` is there when the packets are all of that line.
 */
export const DeliveryRequest = z.object({
  version: z.literal(FORMAT_VERSION),
  portal: id,
  line: id.optional(),
  packets: z.array(Packet).min(1).max(10_000),
});
export type DeliveryRequest = z.infer<typeof DeliveryRequest>;

/**
 * The portal's answer: the packet ids it took (now committed on its side), or `accepted` to say it
 * will acknowledge later through the hub's `ack` call before the hub's ack deadline.
 */
export const DeliveryResponse = z.union([
  z.object({ taken: z.array(id) }),
  z.object({ accepted: z.literal(true) }),
]);
export type DeliveryResponse = z.infer<typeof DeliveryResponse>;
