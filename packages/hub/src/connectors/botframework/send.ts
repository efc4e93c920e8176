import type { FileLink } from "@openlines/protocol";
import { type MarkupNode, parseMarkup } from "@openlines/protocol/markup";
import { type OutboundMessage, PlatformError } from "../contract.js";
import { type BotChannel, channelOf, channelOfType } from "./channels.js";
import type { ConnectorApi } from "./connector-api.js";
import { type ConversationRef, conversationRef } from "./context.js";

const enc = encodeURIComponent;
export const activitiesUrl = (ref: ConversationRef, activityId?: string) =>
  `${ref.serviceUrl}/v3/conversations/${enc(ref.conversationId)}/activities${activityId ? `/${enc(activityId)}` : ""}`;

/**
 * The chat's channel: the channelId its activities came with, which the stored context knows even
 * when the hub has not yet recorded the chat's virtual type (a chat that only showed typing).
 */
const channelFor = (ref: ConversationRef, type: string): BotChannel =>
  ref.address.channelId ? channelOf(ref.address.channelId) : channelOfType(type);

/** The text fields of an outgoing activity in the channel's format. */
function textFields(channel: BotChannel, nodes: MarkupNode[]) {
  const r = channel.write(nodes);
  return {
    ...(r.text ? { text: r.text, textFormat: r.textFormat } : {}),
    ...(r.entities ? { entities: r.entities } : {}),
  };
}

/** Documents on a channel that renders no file attachments become links after the text. */
function withFileLinks(nodes: MarkupNode[], files: FileLink[]): MarkupNode[] {
  const out = [...nodes];
  for (const f of files) {
    if (out.length) out.push({ type: "text", text: "\n" });
    out.push(
      { type: "text", text: "📎 " },
      { type: "link", url: f.url, children: [{ type: "text", text: f.name }] },
    );
  }
  return out;
}

const isImage = (f: FileLink) => f.kind === "image" || (f.kind === undefined && f.type.startsWith("image/"));

/**
 * Sends one message as one activity: the text in the chat's channel format, files as attachments
 * by URL (on Teams only images; other files become links in the text), posted to the
 * conversation, or in reply to an activity when `replyTo` names one. The activity id the
 * connector answers is the platform message id.
 */
export async function sendMessage(
  api: ConnectorApi,
  m: OutboundMessage,
): Promise<{ platformMessageId: string }> {
  const ref = conversationRef(m.chat.id, m.chatContext, m.replyTo);
  const channel = channelFor(ref, m.connector);
  const files = m.files ?? [];
  const asAttachments = channel.filesAsLinks ? files.filter(isImage) : files;
  const asLinks = channel.filesAsLinks ? files.filter((f) => !isImage(f)) : [];
  const nodes = withFileLinks(parseMarkup(m.text ?? ""), asLinks);
  if (nodes.length === 0 && asAttachments.length === 0)
    throw new PlatformError("the message has neither text nor files", { retryable: false });
  const activity = {
    type: "message",
    ...ref.address,
    ...textFields(channel, nodes),
    ...(asAttachments.length
      ? { attachments: asAttachments.map((f) => ({ contentType: f.type, contentUrl: f.url, name: f.name })) }
      : {}),
    ...(m.replyTo ? { replyToId: m.replyTo } : {}),
  };
  const r = await api.call<{ id?: string } | undefined>("POST", activitiesUrl(ref, m.replyTo), activity);
  // Some channels answer no id (channels.md §1.5); the message is sent, but cannot be edited later.
  return { platformMessageId: r?.id || `unknown:${m.id}` };
}

/** Replaces the text of a sent activity (PUT); Teams, Slack and Telegram support it. */
export async function updateMessage(
  api: ConnectorApi,
  m: {
    chat: { id: string };
    platformMessageId: string;
    text: string;
    connector: string;
    chatContext?: Record<string, unknown>;
  },
): Promise<void> {
  const ref = conversationRef(m.chat.id, m.chatContext);
  const channel = channelFor(ref, m.connector);
  await api.call("PUT", activitiesUrl(ref, m.platformMessageId), {
    type: "message",
    id: m.platformMessageId,
    ...ref.address,
    ...textFields(channel, parseMarkup(m.text)),
  });
}

export async function deleteMessage(
  api: ConnectorApi,
  m: { chat: { id: string }; platformMessageId: string; chatContext?: Record<string, unknown> },
): Promise<void> {
  const ref = conversationRef(m.chat.id, m.chatContext);
  try {
    await api.call("DELETE", activitiesUrl(ref, m.platformMessageId));
  } catch (e) {
    // Already gone is what was asked for.
    if (e instanceof PlatformError && e.platformStatus === 404) return;
    throw e;
  }
}

export async function sendTyping(
  api: ConnectorApi,
  chat: { id: string; chatContext?: Record<string, unknown> },
): Promise<void> {
  const ref = conversationRef(chat.id, chat.chatContext);
  await api.call("POST", activitiesUrl(ref), { type: "typing", ...ref.address });
}
