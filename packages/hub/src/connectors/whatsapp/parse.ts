import {
  type FileLink,
  type MessagePayload,
  OpenlinesError,
  printMarkup,
  type UserProfile,
} from "@openlines/protocol";
import { z } from "zod";
import type { ConnectorContext, InboundEvent } from "../contract.js";
import { reasonOf } from "../meta/errors.js";
import { updateChat } from "../meta/profile.js";
import { whatsappToMarkup } from "./markup.js";

const Media = z
  .object({
    id: z.string().min(1).max(256),
    mime_type: z.string().optional(),
    caption: z.string().optional(),
    filename: z.string().optional(),
    sha256: z.string().optional(),
    voice: z.boolean().optional(),
    animated: z.boolean().optional(),
  })
  .passthrough();

const WaMessage = z
  .object({
    from: z.string().regex(/^\d{1,32}$/),
    id: z.string().min(1).max(256),
    timestamp: z.string().regex(/^\d{1,12}$/),
    type: z.string(),
    context: z.object({ from: z.string().optional(), id: z.string().min(1).max(256).optional() }).optional(),
    text: z.object({ body: z.string() }).optional(),
    image: Media.optional(),
    document: Media.optional(),
    audio: Media.optional(),
    video: Media.optional(),
    sticker: Media.optional(),
    location: z
      .object({
        latitude: z.number(),
        longitude: z.number(),
        name: z.string().optional(),
        address: z.string().optional(),
        url: z.string().optional(),
      })
      .optional(),
    contacts: z
      .array(
        z
          .object({
            name: z.object({ formatted_name: z.string().optional() }).passthrough().optional(),
            phones: z
              .array(z.object({ phone: z.string().optional(), wa_id: z.string().optional() }).passthrough())
              .optional(),
          })
          .passthrough(),
      )
      .optional(),
    interactive: z
      .object({
        type: z.string(),
        button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
        list_reply: z
          .object({ id: z.string(), title: z.string(), description: z.string().optional() })
          .optional(),
      })
      .passthrough()
      .optional(),
    button: z.object({ text: z.string(), payload: z.string().optional() }).optional(),
    reaction: z
      .object({ message_id: z.string().min(1).max(256), emoji: z.string().max(64).optional() })
      .optional(),
    referral: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();
type WaMessage = z.infer<typeof WaMessage>;

const WaStatus = z
  .object({
    id: z.string().min(1).max(256),
    status: z.string(),
    timestamp: z.string().regex(/^\d{1,12}$/),
    recipient_id: z.string().min(1).max(256),
    errors: z
      .array(
        z
          .object({ code: z.number(), title: z.string().optional(), message: z.string().optional() })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();

const Contact = z.object({ wa_id: z.string(), profile: z.object({ name: z.string() }).optional() });

const Value = z
  .object({
    messaging_product: z.literal("whatsapp").optional(),
    metadata: z.object({ phone_number_id: z.string(), display_phone_number: z.string().optional() }),
    contacts: z.array(z.unknown()).optional(),
    messages: z.array(z.unknown()).optional(),
    statuses: z.array(z.unknown()).optional(),
  })
  .passthrough();

const Envelope = z.object({
  object: z.string(),
  entry: z.array(
    z.object({
      id: z.string(),
      changes: z.array(z.object({ field: z.string(), value: z.unknown() })).optional(),
    }),
  ),
});

type FileMaker = ConnectorContext["fileLink"];

/**
 * Turns one WhatsApp webhook body into exchange events (channels.md §4.1). Only changes for this
 * line's phone number are taken (one app's webhook may carry several numbers). Messages become
 * `messages` (media as hub links to the media id, fetched with the token on download); statuses
 * of messages the hub sent become `deliveryStatus` (sent, delivered, failed with its reason) or
 * `readStatus` (read, played). A status of a message the hub did not send is skipped.
 */
export async function parseWhatsApp(
  body: unknown,
  ctx: ConnectorContext,
  phoneNumberId: string,
): Promise<InboundEvent[]> {
  const env = Envelope.safeParse(body);
  if (!env.success) throw new OpenlinesError("BAD_REQUEST", "The webhook body is not a Meta webhook event.");
  if (env.data.object !== "whatsapp_business_account") {
    // One app has one callback URL for all its objects: answer 200 so Meta does not disable it.
    ctx.log.warn({ object: env.data.object }, "skipped a webhook of another Meta object");
    return [];
  }
  const out: InboundEvent[] = [];
  for (const entry of env.data.entry) {
    for (const change of entry.changes ?? []) {
      if (change.field !== "messages") continue;
      const value = Value.safeParse(change.value);
      if (!value.success || value.data.metadata.phone_number_id !== phoneNumberId) continue;
      const names = new Map<string, string | undefined>();
      for (const raw of value.data.contacts ?? []) {
        const c = Contact.safeParse(raw);
        if (c.success) names.set(c.data.wa_id, c.data.profile?.name);
      }
      for (const raw of value.data.messages ?? []) {
        const m = WaMessage.safeParse(raw);
        if (!m.success) {
          ctx.log.warn({ issues: m.error.issues.slice(0, 3) }, "skipped a WhatsApp message of unknown shape");
          continue;
        }
        const data = messageOf(m.data, names.get(m.data.from), ctx.fileLink);
        if (data.event !== "reaction") await updateChat(ctx, m.data.from, { lastMessageId: m.data.id });
        out.push({ type: "messages", dedupKey: m.data.id, data });
      }
      for (const raw of value.data.statuses ?? []) {
        const s = WaStatus.safeParse(raw);
        if (!s.success) continue;
        const e = await statusOf(s.data, ctx);
        if (e) out.push(e);
      }
    }
  }
  return out;
}

async function statusOf(
  s: z.infer<typeof WaStatus>,
  ctx: ConnectorContext,
): Promise<InboundEvent | undefined> {
  const at = Number(s.timestamp) * 1000;
  const chat = { id: s.recipient_id };
  const dedupKey = `${s.id}:${s.status}`;
  if (s.status === "read" || s.status === "played")
    return { type: "readStatus", dedupKey, data: { chat, platformMessageIds: [s.id], at } };
  if (s.status !== "sent" && s.status !== "delivered" && s.status !== "failed") return undefined;
  const sent = await ctx.sentMessage?.(s.id);
  if (!sent) return undefined;
  const err = s.errors?.[0];
  return {
    type: "deliveryStatus",
    dedupKey,
    data: {
      chat,
      messageId: sent.messageId,
      status: s.status,
      platformMessageId: s.id,
      at,
      ...(s.status === "failed"
        ? {
            reason: (
              reasonOf(err?.code) ??
              err?.message ??
              err?.title ??
              "WhatsApp could not deliver the message"
            ).slice(0, 2000),
            errorCode: err ? String(err.code) : undefined,
          }
        : {}),
    },
  };
}

const MEDIA_KINDS = ["image", "video", "audio", "document", "sticker"] as const;
const EXT: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "video/mp4": "mp4",
  "video/3gpp": "3gp",
  "audio/ogg": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/aac": "aac",
  "audio/amr": "amr",
  "application/pdf": "pdf",
};

function messageOf(m: WaMessage, name: string | undefined, fileLink: FileMaker): MessagePayload {
  const user: UserProfile = { id: m.from, name: name?.slice(0, 1024) || undefined, phone: `+${m.from}` };
  const lines: string[] = [];
  const files: FileLink[] = [];
  const extra: Record<string, unknown> = {};
  const plain = (s: string) => printMarkup([{ type: "text", text: s }]);
  let event: MessagePayload["event"];
  let replyTo = m.context?.id;

  if (m.text) lines.push(whatsappToMarkup(m.text.body));
  for (const kind of MEDIA_KINDS) {
    const media = m[kind];
    if (!media) continue;
    const type = media.mime_type?.split(";")[0].trim() || "application/octet-stream";
    const fileKind = kind === "audio" && media.voice ? "voice" : kind;
    const fileName = media.filename || `${fileKind}_${media.id}.${EXT[type] ?? "bin"}`;
    files.push({ url: fileLink(media.id, { name: fileName, type }), name: fileName, type, kind: fileKind });
    if (media.caption) lines.push(whatsappToMarkup(media.caption));
  }
  if (m.location) {
    const l = m.location;
    const place = [l.name, l.address].filter(Boolean).join(", ");
    lines.push(
      `📍 ${place ? plain(place) : `Location ${l.latitude.toFixed(6)}, ${l.longitude.toFixed(6)}`} [url]https://www.openstreetmap.org/?mlat=${l.latitude}&mlon=${l.longitude}[/url]`,
    );
    extra.location = l;
  }
  if (m.contacts) {
    for (const c of m.contacts) {
      const phones = (c.phones ?? [])
        .map((p) => p.phone)
        .filter(Boolean)
        .join(", ");
      lines.push(plain(`👤 Contact: ${c.name?.formatted_name ?? "?"}${phones ? `, ${phones}` : ""}`));
    }
    extra.contacts = m.contacts;
  }
  if (m.interactive) {
    const r = m.interactive.button_reply ?? m.interactive.list_reply;
    if (r) lines.push(plain(r.title));
    extra.interactive = m.interactive;
  }
  if (m.button) {
    lines.push(plain(m.button.text));
    extra.button = m.button;
  }
  if (m.reaction) {
    event = "reaction";
    replyTo = m.reaction.message_id;
    lines.push(m.reaction.emoji ?? "");
    extra.reaction = m.reaction;
  }
  if (m.referral) extra.referral = m.referral;
  if (lines.length === 0 && files.length === 0 && !event) {
    lines.push(plain(`(a ${m.type} message that WhatsApp does not pass on to other apps)`));
    extra.unsupported = m.type;
  }
  return {
    kind: "new",
    chat: { id: m.from, type: "private" },
    user,
    message: {
      id: m.id,
      date: Number(m.timestamp) * 1000,
      text: lines.join("\n"),
      files,
      replyTo,
      extra: Object.keys(extra).length > 0 ? extra : undefined,
    },
    event,
  };
}
