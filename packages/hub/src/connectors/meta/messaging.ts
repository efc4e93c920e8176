import {
  type FileLink,
  type MessagePayload,
  OpenlinesError,
  parseMarkup,
  printMarkup,
  toPlainText,
  type UserProfile,
} from "@openlines/protocol";
import { z } from "zod";
import type { ConnectorContext, InboundEvent, OutboundMessage } from "../contract.js";
import { PlatformError } from "../contract.js";
import type { GraphApi } from "./graph.js";
import { cachedProfile, type MetaChatData, PROFILE_TIMEOUT_MS, updateChat } from "./profile.js";

/**
 * Messenger and Instagram messaging share one webhook shape (`entry[].messaging[]`) and one Send
 * API (channels.md §3); this module holds both directions, told apart by `MessagingPlatform`.
 */
export type MessagingPlatform = "facebook" | "instagram";

const Attachment = z
  .object({
    type: z.string(),
    payload: z
      .object({
        url: z.string().optional(),
        title: z.string().optional(),
        sticker_id: z.number().optional(),
        coordinates: z.object({ lat: z.number(), long: z.number() }).optional(),
      })
      .passthrough()
      .nullish(),
    title: z.string().optional(),
    url: z.string().optional(),
  })
  .passthrough();

const MessagingEvent = z
  .object({
    sender: z.object({ id: z.string().min(1).max(256) }),
    recipient: z.object({ id: z.string().min(1).max(256) }),
    timestamp: z.number().int().nonnegative().optional(),
    message: z
      .object({
        mid: z.string().min(1).max(200),
        text: z.string().max(100_000).optional(),
        is_echo: z.boolean().optional(),
        is_deleted: z.boolean().optional(),
        is_unsupported: z.boolean().optional(),
        attachments: z.array(Attachment).optional(),
        quick_reply: z.object({ payload: z.string() }).optional(),
        reply_to: z
          .object({
            mid: z.string().min(1).max(256).optional(),
            story: z.object({ url: z.string(), id: z.string() }).optional(),
          })
          .optional(),
      })
      .optional(),
    postback: z
      .object({
        mid: z.string().min(1).max(200).optional(),
        title: z.string().optional(),
        payload: z.string().optional(),
      })
      .optional(),
    reaction: z
      .object({
        mid: z.string().min(1).max(200),
        action: z.enum(["react", "unreact"]),
        reaction: z.string().optional(),
        emoji: z.string().optional(),
      })
      .optional(),
    delivery: z
      .object({
        mids: z.array(z.string().min(1).max(256)).optional(),
        watermark: z.number().int().nonnegative(),
      })
      .optional(),
    read: z
      .object({
        watermark: z.number().int().nonnegative().optional(),
        mid: z.string().min(1).max(256).optional(),
      })
      .optional(),
  })
  .passthrough();
type MessagingEvent = z.infer<typeof MessagingEvent>;

const Envelope = z.object({
  object: z.string(),
  entry: z.array(
    z.object({ id: z.string(), time: z.number().optional(), messaging: z.array(z.unknown()).optional() }),
  ),
});

const OBJECT: Record<MessagingPlatform, string> = { facebook: "page", instagram: "instagram" };
const PROFILE_FIELDS: Record<MessagingPlatform, string> = {
  facebook: "first_name,last_name,profile_pic",
  instagram: "name,username,profile_pic",
};

export interface MessagingParseOptions {
  platform: MessagingPlatform;
  /** The page id or Instagram account id of this line: events of other accounts are skipped. */
  accountId: string;
  graph: GraphApi;
  ctx: ConnectorContext;
}

/**
 * Turns one Messenger/Instagram webhook body into exchange events. Echoes of our own sends are
 * skipped; deliveries become `deliveryStatus` for each mid the hub sent (found through
 * `ctx.sentMessage`); reads become `readStatus` (a watermark on Messenger, a mid on Instagram).
 * A body of another object (the app's other products) is answered with no events; a body that is
 * no Meta webhook at all is refused with 400.
 */
export async function parseMessaging(body: unknown, o: MessagingParseOptions): Promise<InboundEvent[]> {
  const env = Envelope.safeParse(body);
  if (!env.success) throw new OpenlinesError("BAD_REQUEST", "The webhook body is not a Meta webhook event.");
  if (env.data.object !== OBJECT[o.platform]) {
    // One app has one callback URL for all its objects: answer 200 so Meta does not disable it.
    o.ctx.log.warn({ object: env.data.object }, "skipped a webhook of another Meta object");
    return [];
  }
  const out: InboundEvent[] = [];
  for (const entry of env.data.entry) {
    if (entry.id !== o.accountId) continue;
    for (const raw of entry.messaging ?? []) {
      const parsed = MessagingEvent.safeParse(raw);
      if (!parsed.success) {
        o.ctx.log.warn(
          { issues: parsed.error.issues.slice(0, 3) },
          "skipped a messaging event of unknown shape",
        );
        continue;
      }
      out.push(...(await eventOf(parsed.data, o)));
    }
  }
  return out;
}

async function eventOf(e: MessagingEvent, o: MessagingParseOptions): Promise<InboundEvent[]> {
  const at = e.timestamp ?? o.ctx.clock.now();
  const chatId = e.sender.id;
  if (chatId === o.accountId) return []; // sent by the account itself (echo, or another inbox)
  const chat = { id: chatId, type: "private" as const };

  if (e.delivery) {
    const events: InboundEvent[] = [];
    for (const mid of e.delivery.mids ?? []) {
      const sent = await o.ctx.sentMessage?.(mid);
      if (!sent) continue;
      events.push({
        type: "deliveryStatus",
        dedupKey: `delivery:${mid}`,
        data: { chat, messageId: sent.messageId, status: "delivered", platformMessageId: mid, at },
      });
    }
    return events;
  }
  if (e.read) {
    if (e.read.mid)
      return [
        {
          type: "readStatus",
          dedupKey: `read:${e.read.mid}`,
          data: { chat, platformMessageIds: [e.read.mid], at },
        },
      ];
    if (e.read.watermark !== undefined)
      return [
        {
          type: "readStatus",
          dedupKey: `read:${chatId}:${e.read.watermark}`,
          data: { chat, watermark: e.read.watermark, at },
        },
      ];
    return [];
  }
  if (e.message?.is_echo) return [];

  const payload = (
    message: MessagePayload["message"],
    extra: Partial<MessagePayload> = {},
  ): Promise<MessagePayload> =>
    profileOf(chatId, o).then((user) => ({ kind: "new", chat, user, message, ...extra }));

  if (e.reaction) {
    const emoji = e.reaction.action === "react" ? (e.reaction.emoji ?? "") : "";
    const data = await payload(
      {
        id: `reaction:${e.reaction.mid}:${at}`,
        date: at,
        text: emoji,
        files: [],
        replyTo: e.reaction.mid,
        extra: {
          reaction: { action: e.reaction.action, reaction: e.reaction.reaction, emoji: e.reaction.emoji },
        },
      },
      { event: "reaction" },
    );
    return [{ type: "messages", dedupKey: `reaction:${e.reaction.mid}:${chatId}:${at}`, data }];
  }
  if (e.postback) {
    const id = e.postback.mid ?? `postback:${chatId}:${at}`;
    await touchInbound(chatId, o);
    const data = await payload(
      {
        id,
        date: at,
        text: e.postback.title ?? "",
        files: [],
        extra: { postback: { payload: e.postback.payload } },
      },
      { event: "postback" },
    );
    return [{ type: "messages", dedupKey: id, data }];
  }
  const m = e.message;
  if (!m) return [];
  if (m.is_deleted) {
    const data = await payload({ id: m.mid, date: at, text: "", files: [] }, { kind: "deleted" });
    return [{ type: "messages", dedupKey: `deleted:${m.mid}`, data }];
  }

  const lines: string[] = [];
  if (m.text) lines.push(escapeText(m.text));
  const files: FileLink[] = [];
  const extra: Record<string, unknown> = {};
  if (m.reply_to?.story) {
    lines.unshift(`↩ Reply to your story: ${link(m.reply_to.story.url)}`);
    extra.storyReply = m.reply_to.story;
  }
  for (const [i, a] of (m.attachments ?? []).entries()) {
    const url = a.payload?.url;
    switch (a.type) {
      case "image":
      case "video":
      case "audio":
      case "file":
        if (url && isHttp(url)) {
          const kind = a.payload?.sticker_id ? "sticker" : a.type === "file" ? "document" : a.type;
          files.push(fileOf(url, kind, `${a.type}_${m.mid.slice(-12)}_${i}`));
        }
        break;
      case "story_mention":
        if (url) lines.push(`📣 Mentioned you in their story: ${link(url)}`);
        extra.storyMention = { url };
        break;
      case "location": {
        const c = a.payload?.coordinates;
        if (c)
          lines.push(
            `📍 Location ${c.lat.toFixed(6)}, ${c.long.toFixed(6)} ${link(`https://www.openstreetmap.org/?mlat=${c.lat}&mlon=${c.long}`)}`,
          );
        extra.location = c;
        break;
      }
      default: {
        // fallback (shared link), share, ig_reel, reel, template…: shown as their link
        const u = url ?? a.url;
        const title = a.payload?.title ?? a.title;
        if (u && isHttp(u)) lines.push(`${title ? `${escapeText(title)}: ` : ""}${link(u)}`);
        else if (title) lines.push(escapeText(title));
        extra[a.type] = a.payload ?? {};
      }
    }
  }
  if (m.is_unsupported && lines.length === 0 && files.length === 0)
    lines.push("(a message this channel does not pass on to other apps)");
  if (m.quick_reply) extra.quickReply = { payload: m.quick_reply.payload };
  if (lines.length === 0 && files.length === 0) return [];
  await touchInbound(chatId, o);
  const data = await payload({
    id: m.mid,
    date: at,
    text: lines.join("\n"),
    files,
    replyTo: m.reply_to?.mid,
    extra: Object.keys(extra).length > 0 ? extra : undefined,
  });
  return [{ type: "messages", dedupKey: m.mid, data }];
}

/** Plain text to exchange markup: a `[` that could read as a tag is escaped. */
const escapeText = (s: string) => printMarkup([{ type: "text", text: s }]);
const link = (url: string) => `[url]${url}[/url]`;
const isHttp = (url: string) => /^https?:\/\//i.test(url);

function fileOf(url: string, kind: NonNullable<FileLink["kind"]>, fallback: string): FileLink {
  let name = fallback;
  try {
    const last = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "");
    if (/^[^/\\]{1,200}\.[A-Za-z0-9]{1,8}$/.test(last)) name = last;
  } catch {}
  const ext = name.split(".").pop()?.toLowerCase();
  const type =
    kind === "audio" && ext === "mp4"
      ? "audio/mp4"
      : (MIME[ext ?? ""] ?? DEFAULT_MIME[kind] ?? "application/octet-stream");
  return { url, name, type, kind };
}
const MIME: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  mp4: "video/mp4",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  pdf: "application/pdf",
};
const DEFAULT_MIME: Record<string, string> = {
  image: "image/jpeg",
  video: "video/mp4",
  audio: "audio/mpeg",
  sticker: "image/png",
};

/** The hub's time of the customer's message: the window is measured on the hub's clock. */
async function touchInbound(chatId: string, o: MessagingParseOptions) {
  await updateChat(o.ctx, chatId, { lastInboundMs: o.ctx.clock.now() });
}

function profileOf(chatId: string, o: MessagingParseOptions): Promise<UserProfile> {
  return cachedProfile(o.ctx, chatId, async () => {
    const p = await o.graph.get<{
      first_name?: string;
      last_name?: string;
      name?: string;
      username?: string;
      profile_pic?: string;
    }>(encodeURIComponent(chatId), { fields: PROFILE_FIELDS[o.platform] }, { timeoutMs: PROFILE_TIMEOUT_MS });
    const name = p.name ?? ([p.first_name, p.last_name].filter(Boolean).join(" ") || undefined);
    return {
      id: chatId,
      name: name ?? p.username,
      firstName: p.first_name,
      lastName: p.last_name,
      username: p.username,
      avatarUrl: p.profile_pic && isHttp(p.profile_pic) ? p.profile_pic : undefined,
      profileUrl: p.username ? `https://www.instagram.com/${encodeURIComponent(p.username)}` : undefined,
    };
  });
}

/** Messenger's standard messaging window; after it only message tags may be used. */
export const STANDARD_WINDOW_MS = 24 * 3600_000;
/**
 * The tag for replies outside the standard window. HUMAN_AGENT lets a person answer up to 7 days
 * after the customer's last message (the app needs the Human Agent permission). The other tags
 * (ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE, POST_PURCHASE_UPDATE) are for automated,
 * non-promotional notices and do not fit an operator's free reply, so they are not used.
 */
export const OUTSIDE_WINDOW_TAG = "HUMAN_AGENT";

const ATTACHMENT_TYPE: Record<string, string> = {
  image: "image",
  sticker: "image",
  video: "video",
  audio: "audio",
  voice: "audio",
};

/**
 * Sends one operator message through the Send API: the text (plain: Messenger has no markup),
 * then each file as an attachment by URL (one per call). Inside 24 hours of the customer's last
 * message it goes as RESPONSE, later as MESSAGE_TAG with OUTSIDE_WINDOW_TAG. Returns the first
 * message id; a failure after the first call throws and the outbox sends the whole message again.
 */
export async function sendMessaging(
  graph: GraphApi,
  m: OutboundMessage,
  now: number,
): Promise<{ platformMessageId: string }> {
  if (m.reaction) {
    // The Send API knows one reaction, "love"; any emoji is sent as it, "" removes it.
    await graph.post("me/messages", {
      recipient: { id: m.chat.id },
      sender_action: m.reaction.emoji ? "react" : "unreact",
      payload: { message_id: m.reaction.to, ...(m.reaction.emoji ? { reaction: "love" } : {}) },
    });
    return { platformMessageId: `reaction:${m.reaction.to}` };
  }
  const data = (m.chatContext ?? {}) as MetaChatData;
  const inside = data.lastInboundMs !== undefined && now - data.lastInboundMs <= STANDARD_WINDOW_MS;
  const type = inside
    ? { messaging_type: "RESPONSE" }
    : { messaging_type: "MESSAGE_TAG", tag: OUTSIDE_WINDOW_TAG };
  const recipient = { id: m.chat.id };
  const ids: string[] = [];
  const text = toPlainText(parseMarkup(m.text ?? ""));
  if (text.trim() !== "") {
    const r = await graph.post<{ message_id: string }>("me/messages", {
      recipient,
      ...type,
      message: { text },
    });
    ids.push(r.message_id);
  }
  for (const f of m.files ?? []) {
    const kind = f.kind ?? (f.type.split("/")[0] === "image" ? "image" : "document");
    const r = await graph.post<{ message_id: string }>("me/messages", {
      recipient,
      ...type,
      message: {
        attachment: { type: ATTACHMENT_TYPE[kind] ?? "file", payload: { url: f.url, is_reusable: true } },
      },
    });
    ids.push(r.message_id);
  }
  if (ids.length === 0)
    throw new PlatformError("the message has neither text nor files", { retryable: false });
  return { platformMessageId: ids[0] };
}

/** A sender action (`typing_on`, `mark_seen`): shown to the customer, never retried. */
export async function senderAction(graph: GraphApi, chatId: string, action: "typing_on" | "mark_seen") {
  await graph.post("me/messages", { recipient: { id: chatId }, sender_action: action });
}
