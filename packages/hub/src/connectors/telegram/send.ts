import type { FileLink } from "@openlines/protocol";
import { type OutboundMessage, PlatformError } from "../contract.js";
import type { BotApi } from "./api.js";
import { CAPTION_LIMIT, markupToHtmlParts, TEXT_LIMIT } from "./html.js";
import { parseMarkup } from "./markup.js";

/** Telegram fetches files given by URL itself: photos up to 5 MB, other files up to 20 MB. */
export const PHOTO_BY_URL_MAX_BYTES = 5 * 1024 * 1024;
export const FILE_BY_URL_MAX_BYTES = 20 * 1024 * 1024;

type Media = "photo" | "video" | "audio" | "document";
const sendMethod = { photo: "sendPhoto", video: "sendVideo", audio: "sendAudio", document: "sendDocument" };

/** Which Telegram media type carries a file; a photo too large for sendPhoto goes as a document. */
export function mediaOf(f: FileLink): Media {
  const kind = f.kind ?? kindFromType(f.type);
  if (kind === "image" && !/gif|svg/.test(f.type ?? "") && (f.size ?? 0) <= PHOTO_BY_URL_MAX_BYTES)
    return "photo";
  if (kind === "video") return "video";
  if (kind === "audio" || kind === "voice") return "audio";
  return "document";
}
const kindFromType = (type = "") =>
  type.startsWith("image/")
    ? "image"
    : type.startsWith("video/")
      ? "video"
      : type.startsWith("audio/")
        ? "audio"
        : "";

export const chatIdOf = (id: string): number | string => (/^-?\d{1,16}$/.test(id) ? Number(id) : id);

/**
 * Sends one outgoing message: text alone as one or more sendMessage calls (split at 4096); one
 * file with the first 1024 characters as its caption; several files as media groups (photos and
 * videos together, documents together, audio together; up to 10 per group), the caption on the
 * first media. Text that does not fit the caption follows as messages. Returns the first
 * message id. A failure after the first call throws, and the outbox's retry sends the whole
 * message again: a customer may see a part twice, never a part missing.
 */
export async function sendOutbound(api: BotApi, m: OutboundMessage): Promise<{ platformMessageId: string }> {
  const chat_id = chatIdOf(m.chat.id);
  const nodes = parseMarkup(m.text ?? "");
  const files = m.files ?? [];
  const ids: number[] = [];
  let reply: Record<string, unknown> | undefined =
    m.replyTo && /^\d+$/.test(m.replyTo)
      ? { reply_parameters: { message_id: Number(m.replyTo), allow_sending_without_reply: true } }
      : undefined;
  const once = () => {
    const r = reply;
    reply = undefined;
    return r ?? {};
  };

  let texts: string[];
  if (files.length === 0) {
    texts = markupToHtmlParts(nodes, { limit: TEXT_LIMIT });
  } else {
    const [caption, ...rest] = markupToHtmlParts(nodes, { firstLimit: CAPTION_LIMIT, limit: TEXT_LIMIT });
    texts = rest;
    const captioned = caption ? { caption, parse_mode: "HTML" } : {};
    const groups = groupFiles(files);
    let first = true;
    for (const group of groups) {
      const cap = first ? captioned : {};
      first = false;
      if (group.length === 1) {
        const media = mediaOf(group[0]);
        const r = await api.call<{ message_id: number }>(sendMethod[media], {
          chat_id,
          [media]: group[0].url,
          ...cap,
          ...once(),
        });
        ids.push(r.message_id);
      } else {
        const media = group.map((f, i) => ({ type: mediaOf(f), media: f.url, ...(i === 0 ? cap : {}) }));
        const r = await api.call<{ message_id: number }[]>("sendMediaGroup", { chat_id, media, ...once() });
        ids.push(r[0].message_id);
      }
    }
  }
  for (const text of texts) {
    if (text.trim() === "") continue;
    const r = await api.call<{ message_id: number }>("sendMessage", {
      chat_id,
      text,
      parse_mode: "HTML",
      ...once(),
    });
    ids.push(r.message_id);
  }
  if (ids.length === 0)
    throw new PlatformError("the message has neither text nor files", { retryable: false });
  return { platformMessageId: String(ids[0]) };
}

/** Splits files into media groups Telegram accepts: visual media, documents and audio apart; ≤ 10 each. */
function groupFiles(files: FileLink[]): FileLink[][] {
  const byFamily = new Map<string, FileLink[]>();
  for (const f of files) {
    const media = mediaOf(f);
    const family = media === "photo" || media === "video" ? "visual" : media;
    byFamily.set(family, [...(byFamily.get(family) ?? []), f]);
  }
  const groups: FileLink[][] = [];
  for (const list of byFamily.values())
    for (let i = 0; i < list.length; i += 10) groups.push(list.slice(i, i + 10));
  return groups;
}

/**
 * Edits a sent message's text. A media message has a caption, not a text: Telegram says so, and
 * the caption is edited instead. "Not modified" counts as done.
 */
export async function editOutbound(
  api: BotApi,
  chatId: string,
  messageId: string,
  text: string,
): Promise<void> {
  const parts = markupToHtmlParts(parseMarkup(text), { limit: TEXT_LIMIT });
  if (parts.length > 1)
    throw new PlatformError(`an edited message cannot be longer than ${TEXT_LIMIT} characters on Telegram`, {
      retryable: false,
    });
  const base = { chat_id: chatIdOf(chatId), message_id: Number(messageId), parse_mode: "HTML" };
  try {
    await api.call("editMessageText", { ...base, text: parts[0] });
  } catch (e) {
    if (e instanceof PlatformError && /message is not modified/i.test(e.message)) return;
    if (!(e instanceof PlatformError && /no text in the message/i.test(e.message))) throw e;
    const [caption] = markupToHtmlParts(parseMarkup(text), { firstLimit: CAPTION_LIMIT, limit: TEXT_LIMIT });
    try {
      await api.call("editMessageCaption", { ...base, caption });
    } catch (e2) {
      if (e2 instanceof PlatformError && /message is not modified/i.test(e2.message)) return;
      throw e2;
    }
  }
}
