import type { FileLink } from "@openlines/protocol";
import { type OutboundMessage, PlatformError } from "../contract.js";
import type { GraphApi } from "../meta/graph.js";
import { markupToWhatsapp } from "./markup.js";

export const TEXT_LIMIT = 4096;
/** Captions of image, video and document messages. */
export const CAPTION_LIMIT = 1024;

type MediaType = "image" | "video" | "audio" | "document" | "sticker";
const CAPTIONED = new Set<MediaType>(["image", "video", "document"]);

export function mediaTypeOf(f: FileLink): MediaType {
  const kind = f.kind ?? f.type.split("/")[0];
  if (kind === "image") return "image";
  if (kind === "video") return "video";
  if (kind === "audio" || kind === "voice") return "audio";
  if (kind === "sticker") return "sticker";
  return "document";
}

const hasLink = (text: string) => /https?:\/\/\S/.test(text);

/**
 * Sends one operator message to a WhatsApp user (channels.md §4.2): a reaction (an emoji on the
 * customer's message; "" removes it), or a template when the portal
 * chose one (the only kind allowed outside the 24-hour window); otherwise each file by link, the
 * text as the first captioned file's caption when it fits, else as a text message with link
 * previews on when it holds a link. The reply context goes on the first message. Returns the
 * first message's wamid.
 */
export async function sendWhatsApp(
  graph: GraphApi,
  phoneNumberId: string,
  m: OutboundMessage,
): Promise<{ platformMessageId: string }> {
  const path = `${phoneNumberId}/messages`;
  let context: { context: { message_id: string } } | undefined = m.replyTo
    ? { context: { message_id: m.replyTo } }
    : undefined;
  const ids: string[] = [];
  const post = async (body: Record<string, unknown>) => {
    const r = await graph.post<{ messages?: { id: string }[] }>(path, {
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: m.chat.id,
      ...context,
      ...body,
    });
    context = undefined;
    const id = r.messages?.[0]?.id;
    if (!id)
      throw new PlatformError("WhatsApp accepted the message but gave no message id", { retryable: false });
    ids.push(id);
  };

  if (m.reaction) {
    context = undefined;
    await post({ type: "reaction", reaction: { message_id: m.reaction.to, emoji: m.reaction.emoji } });
    return { platformMessageId: ids[0] };
  }

  if (m.template) {
    const parameters = m.template.parameters.map((text) => ({ type: "text", text }));
    await post({
      type: "template",
      template: {
        name: m.template.name,
        language: { code: m.template.language },
        ...(parameters.length > 0 ? { components: [{ type: "body", parameters }] } : {}),
      },
    });
    return { platformMessageId: ids[0] };
  }

  let text = markupToWhatsapp(m.text ?? "");
  for (const f of m.files ?? []) {
    const type = mediaTypeOf(f);
    const media: Record<string, unknown> = { link: f.url };
    if (type === "document") media.filename = f.name;
    if (CAPTIONED.has(type) && text.trim() !== "" && text.length <= CAPTION_LIMIT) {
      media.caption = text;
      text = "";
    }
    await post({ type, [type]: media });
  }
  if (text.trim() !== "") await post({ type: "text", text: { preview_url: hasLink(text), body: text } });
  if (ids.length === 0)
    throw new PlatformError("the message has neither text nor files", { retryable: false });
  return { platformMessageId: ids[0] };
}
