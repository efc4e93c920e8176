import { z } from "zod";
import { FileLink } from "./format.js";

/**
 * Portal → hub remote calls: POST /rpc/<method>, body = the arguments, signed with the portal's
 * secret and carrying the portal id in the `openlines-portal` header. Each entry pairs the
 * argument schema with the result schema; the output client is typed from this table.
 */
// No NUL: PostgreSQL text refuses it, so an id holding one could never be stored or looked up
// (a call or webhook carrying one was a 500: found by the fuzz sweeps).
const id = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !s.includes("\u0000"), "must not contain a NUL character");
/** Names one line connector of the calling portal: the portal's line id and the connector type. */
/** A connector type as a call names it (looked up, so no NUL either). */
const connectorType = z
  .string()
  .min(1)
  .max(64)
  .refine((s) => !s.includes("\u0000"), "must not contain a NUL character");
const LineRef = z.object({ line: id, connector: connectorType });
export type LineRef = z.infer<typeof LineRef>;

export const Capabilities = z.object({
  edit: z.boolean(),
  delete: z.boolean(),
  typing: z.boolean(),
  readReceipts: z.boolean(),
  deliveryReceipts: z.boolean(),
  groupChats: z.boolean(),
  files: z.object({
    kinds: z.array(z.enum(["image", "video", "audio", "voice", "sticker", "document", "other"])),
    maxSizeBytes: z.number().int().nonnegative(),
    maxCount: z.number().int().nonnegative(),
  }),
  textMaxLength: z.number().int().positive(),
  formatting: z.array(
    z.enum(["bold", "italic", "underline", "strike", "code", "pre", "link", "mention", "quote", "spoiler"]),
  ),
  /** Hours after the customer's last message during which a free reply is allowed; null = always. */
  replyWindowHours: z.number().positive().nullable(),
  templates: z.boolean(),
});
export type Capabilities = z.infer<typeof Capabilities>;

export const OutgoingMessage = z.object({
  /** The portal's id of this message; delivery statuses refer to it. */
  id,
  chat: z.object({ id }),
  text: z.string().max(100_000).default(""),
  files: z.array(FileLink).max(50).default([]),
  replyTo: id.optional(),
  template: z
    .object({
      name: z.string().min(1),
      language: z.string().min(1),
      parameters: z.array(z.string()).default([]),
    })
    .optional(),
  /** A reaction instead of a message: the emoji on a customer's message (platform id); "" removes it. */
  reaction: z.object({ to: id, emoji: z.string().max(32) }).optional(),
});
export type OutgoingMessage = z.infer<typeof OutgoingMessage>;

export const LineStatus = z.object({
  line: id,
  connector: z.string(),
  status: z.enum(["new", "active", "needsAttention", "disabled"]),
  reason: z.string().optional(),
  webhookUrl: z.string().optional(),
  account: z.object({ id: z.string(), name: z.string().optional() }).optional(),
  capabilities: Capabilities.optional(),
  queue: z.object({
    waiting: z.number().int().nonnegative(),
    attempts: z.number().int().nonnegative(),
    blockedUntil: z.number().int().nullable(),
    firstFailureAt: z.number().int().nullable(),
    deadLetters: z.number().int().nonnegative(),
  }),
});
export type LineStatus = z.infer<typeof LineStatus>;

export const DeadLetter = z.object({
  id,
  line: id,
  connector: z.string(),
  type: z.string(),
  created: z.number().int(),
  expiredAt: z.number().int(),
  reason: z.string(),
  packet: z.unknown(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

const Accepted = z.object({ accepted: z.array(id) });

export const Calls = {
  saveSettings: {
    args: LineRef.extend({ settings: z.record(z.string(), z.unknown()) }),
    result: z.object({ webhookUrl: z.string(), status: LineStatus.shape.status }),
  },
  testConnect: {
    args: LineRef,
    result: z.object({
      ok: z.boolean(),
      account: z.object({ id: z.string(), name: z.string().optional() }).optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  },
  activate: { args: LineRef, result: z.object({ status: LineStatus.shape.status, webhookUrl: z.string() }) },
  deactivate: { args: LineRef, result: z.object({ status: LineStatus.shape.status }) },
  status: {
    args: z.object({ line: id.optional(), connector: connectorType.optional() }),
    result: z.object({ lines: z.array(LineStatus) }),
  },
  connectors: {
    args: z.object({}),
    result: z.object({
      connectors: z.array(
        z.object({
          type: z.string(),
          title: z.string(),
          settingsSchema: z.unknown(),
          capabilities: Capabilities,
        }),
      ),
    }),
  },
  sendMessages: {
    args: LineRef.extend({ messages: z.array(OutgoingMessage).min(1).max(100) }),
    result: Accepted,
  },
  updateMessages: {
    args: LineRef.extend({
      messages: z
        .array(z.object({ id, chat: z.object({ id }), platformMessageId: id, text: z.string().max(100_000) }))
        .min(1)
        .max(100),
    }),
    result: Accepted,
  },
  deleteMessages: {
    args: LineRef.extend({
      messages: z
        .array(z.object({ id, chat: z.object({ id }), platformMessageId: id }))
        .min(1)
        .max(100),
    }),
    result: Accepted,
  },
  typing: { args: LineRef.extend({ chat: z.object({ id }) }), result: z.object({ ok: z.literal(true) }) },
  markRead: {
    args: LineRef.extend({ chat: z.object({ id }), platformMessageIds: z.array(id).max(1000).default([]) }),
    result: z.object({ ok: z.literal(true) }),
  },
  ack: {
    args: z.object({ ids: z.array(id).min(1).max(10_000) }),
    result: z.object({ acknowledged: z.number() }),
  },
  deadLetters: {
    args: z.object({ line: id.optional(), limit: z.number().int().min(1).max(1000).default(100) }),
    result: z.object({ items: z.array(DeadLetter) }),
  },
  redrive: {
    args: z.object({ line: id.optional(), ids: z.array(id).optional() }),
    result: z.object({ requeued: z.number() }),
  },
  templates: {
    args: LineRef,
    result: z.object({
      templates: z.array(
        z.object({ name: z.string(), language: z.string(), body: z.string(), parameters: z.number().int() }),
      ),
    }),
  },
} as const;

export type CallName = keyof typeof Calls;
export type CallArgs<M extends CallName> = z.input<(typeof Calls)[M]["args"]>;
export type CallResult<M extends CallName> = z.output<(typeof Calls)[M]["result"]>;
