import { type FileLink, type MessagePayload, OpenlinesError, type UserProfile } from "@openlines/protocol";
import type { ConnectorContext, InboundEvent } from "../contract.js";
import { entitiesToMarkup } from "./entities.js";
import { type MarkupNode, printMarkup } from "./markup.js";
import type { TelegramSettings } from "./settings.js";
import { type TelegramMessage, type TelegramUser, Update } from "./update.js";

/** The update types the connector asks Telegram for in setWebhook. */
export const ALLOWED_UPDATES = ["message", "edited_message", "my_chat_member"];

type FileMaker = ConnectorContext["fileLink"];

/**
 * Turns one webhook body (one Telegram `Update`) into exchange events. A body that is not an
 * Update is refused with 400 and nothing is queued; an Update of a kind we do not handle (or
 * from a group while groups are off) is answered 200 with no events, so Telegram stops resending.
 */
export function parseUpdate(body: unknown, settings: TelegramSettings, fileLink: FileMaker): InboundEvent[] {
  const parsed = Update.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpenlinesError(
      "BAD_REQUEST",
      `The Telegram update is malformed: ${issue.path.join(".") || "body"}: ${issue.message}`,
    );
  }
  const update = parsed.data;
  const dedupKey = String(update.update_id);
  const allowed = (type: string) =>
    type === "private" || (settings.allowGroups && (type === "group" || type === "supergroup"));

  const msg = update.message ?? update.edited_message;
  if (msg) {
    if (!allowed(msg.chat.type) || !msg.from) return [];
    const data = messagePayload(msg, update.message ? "new" : "edited", fileLink);
    return data ? [{ type: "messages", data, dedupKey }] : [];
  }

  const member = update.my_chat_member;
  if (member && member.chat.type === "private" && member.new_chat_member.status === "kicked") {
    return [
      {
        type: "messages",
        dedupKey,
        data: {
          kind: "new",
          event: "closedByUser",
          chat: chatOf(member.chat),
          user: profile(member.from),
          message: { id: `update-${update.update_id}`, date: member.date * 1000, text: "", files: [] },
        },
      },
    ];
  }
  return [];
}

function chatOf(chat: TelegramMessage["chat"]): MessagePayload["chat"] {
  const group = chat.type === "group" || chat.type === "supergroup";
  return { id: String(chat.id), type: group ? "group" : "private", title: group ? chat.title : undefined };
}

export function profile(u: TelegramUser): UserProfile {
  const name = [u.first_name, u.last_name].filter(Boolean).join(" ");
  return {
    id: String(u.id),
    name: name || undefined,
    firstName: u.first_name || undefined,
    lastName: u.last_name,
    username: u.username,
    language: u.language_code,
    profileUrl: u.username ? `https://t.me/${u.username}` : undefined,
    bot: u.is_bot || undefined,
  };
}

function messagePayload(
  msg: TelegramMessage,
  kind: "new" | "edited",
  fileLink: FileMaker,
): MessagePayload | undefined {
  const nodes: MarkupNode[] = [];
  if (msg.text !== undefined) nodes.push(...entitiesToMarkup(msg.text, msg.entities));
  else if (msg.caption !== undefined) nodes.push(...entitiesToMarkup(msg.caption, msg.caption_entities));

  const files = filesOf(msg, fileLink);
  const extra: Record<string, unknown> = {};
  const line = (text: string, link?: string) => {
    if (nodes.length > 0) nodes.push({ type: "text", text: "\n" });
    nodes.push({ type: "text", text });
    if (link)
      nodes.push(
        { type: "text", text: " " },
        { type: "link", url: link, children: [{ type: "text", text: link }] },
      );
  };
  if (msg.venue) {
    const { latitude, longitude } = msg.venue.location;
    line(`📍 ${msg.venue.title}, ${msg.venue.address}`, mapLink(latitude, longitude));
    extra.venue = msg.venue;
  } else if (msg.location) {
    const { latitude, longitude } = msg.location;
    line(`📍 Location ${latitude.toFixed(6)}, ${longitude.toFixed(6)}`, mapLink(latitude, longitude));
    extra.location = msg.location;
  }
  if (msg.contact) {
    const c = msg.contact;
    line(`👤 Contact: ${[c.first_name, c.last_name].filter(Boolean).join(" ")}, ${c.phone_number}`);
    extra.contact = c;
  }
  if (msg.sticker?.emoji && msg.text === undefined && msg.caption === undefined) line(msg.sticker.emoji);
  if (msg.forward_origin) {
    const o = msg.forward_origin;
    const from = o.sender_user
      ? [o.sender_user.first_name, o.sender_user.last_name].filter(Boolean).join(" ")
      : (o.sender_user_name ?? o.sender_chat?.title ?? o.chat?.title);
    extra.forwardedFrom = { type: o.type, name: from, date: o.date * 1000 };
  }

  if (nodes.length === 0 && files.length === 0) return undefined;
  return {
    kind,
    chat: chatOf(msg.chat),
    user: profile(msg.from!),
    message: {
      id: String(msg.message_id),
      date: (kind === "edited" && msg.edit_date ? msg.edit_date : msg.date) * 1000,
      text: printMarkup(nodes),
      files,
      replyTo: msg.reply_to_message ? String(msg.reply_to_message.message_id) : undefined,
      extra: Object.keys(extra).length > 0 ? extra : undefined,
    },
  };
}

const mapLink = (lat: number, lon: number) =>
  `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;

/** Every file of a message as a hub link: Telegram's own link carries the bot token. */
function filesOf(msg: TelegramMessage, fileLink: FileMaker): FileLink[] {
  const out: FileLink[] = [];
  const add = (
    f: {
      file_id: string;
      file_unique_id: string;
      file_size?: number;
      file_name?: string;
      mime_type?: string;
    },
    kind: NonNullable<FileLink["kind"]>,
    fallbackName: string,
    fallbackType: string,
  ) => {
    const file = { name: f.file_name || fallbackName, type: f.mime_type || fallbackType, size: f.file_size };
    out.push({ url: fileLink(f.file_id, file), ...file, kind });
  };
  if (msg.photo) {
    // Sizes come smallest first; pick by pixels (file_size may be missing or not monotonic).
    const largest = msg.photo.reduce((a, b) => (b.width * b.height >= a.width * a.height ? b : a));
    add(largest, "image", `photo_${largest.file_unique_id}.jpg`, "image/jpeg");
  }
  if (msg.animation)
    add(msg.animation, "video", `animation_${msg.animation.file_unique_id}.mp4`, "video/mp4");
  else if (msg.document)
    add(msg.document, "document", `document_${msg.document.file_unique_id}`, "application/octet-stream");
  if (msg.voice) add(msg.voice, "voice", `voice_${msg.voice.file_unique_id}.ogg`, "audio/ogg");
  if (msg.audio) add(msg.audio, "audio", `audio_${msg.audio.file_unique_id}.mp3`, "audio/mpeg");
  if (msg.video) add(msg.video, "video", `video_${msg.video.file_unique_id}.mp4`, "video/mp4");
  if (msg.video_note)
    add(msg.video_note, "video", `video_note_${msg.video_note.file_unique_id}.mp4`, "video/mp4");
  if (msg.sticker) {
    const s = msg.sticker;
    const [ext, type] = s.is_animated
      ? ["tgs", "application/x-tgsticker"]
      : s.is_video
        ? ["webm", "video/webm"]
        : ["webp", "image/webp"];
    add(s, "sticker", `sticker_${s.file_unique_id}.${ext}`, type);
  }
  return out;
}
