import { createHash } from "node:crypto";
import { type FileLink, type MessagePayload, OpenlinesError, type UserProfile } from "@openlines/protocol";
import { type MarkupNode, printMarkup } from "@openlines/protocol/markup";
import type { ConnectorContext, InboundEvent } from "../contract.js";
import { Activity, type Attachment, type ChannelAccount, type Entity } from "./activity.js";
import { type BotChannel, channelOf, withEmoticons } from "./channels.js";

type FileMaker = ConnectorContext["fileLink"];

/** Reaction types of Bot Framework channels (Teams' set) and the emoji the operator sees. */
const REACTIONS: Record<string, string> = {
  like: "👍",
  heart: "❤️",
  laugh: "😆",
  surprised: "😮",
  sad: "😢",
  angry: "😠",
};

/** Parses and checks a request body as an Activity; a body that is not one is 400 BAD_REQUEST. */
export function readActivity(body: unknown): Activity {
  const parsed = Activity.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OpenlinesError(
      "BAD_REQUEST",
      `The Bot Framework activity is malformed: ${issue.path.join(".") || "body"}: ${issue.message}`,
    );
  }
  return parsed.data;
}

export interface ParseOptions {
  now: number;
  fileLink: FileMaker;
  /** The request's bytes: an activity without an id is named by their hash (re-deliveries match). */
  rawBody: Buffer;
}

/**
 * Turns one activity into exchange events. The activity's `channelId` picks the virtual channel
 * (its text conversion and emoticons); an activity type we do not handle (event, invoke…) gives
 * no event and is still answered 200.
 */
export function parseActivity(a: Activity, o: ParseOptions): InboundEvent[] {
  const channel = channelOf(a.channelId);
  const connector = channel.type;
  const id = a.id ?? `h${createHash("sha256").update(o.rawBody).digest("hex").slice(0, 32)}`;
  const key = (kind: string) => `${a.conversation.id}|${kind}:${id}`;
  const date = (a.timestamp && Date.parse(a.timestamp)) || o.now;
  const chat = chatOf(a);
  const user = profileOf(a.from, a.locale);
  const fromBot = a.from.id === a.recipient.id;
  const event = (
    data: Omit<MessagePayload, "chat" | "user"> & { user?: UserProfile },
    dedupKey: string,
  ): InboundEvent => ({
    type: "messages",
    connector,
    dedupKey,
    data: { chat, user, ...data } as MessagePayload,
  });

  switch (a.type) {
    case "message": {
      if (fromBot) return [];
      const { text, files, extra } = messageContent(a, channel, o);
      if (!text && files.length === 0 && !extra) return [];
      return [
        event(
          {
            kind: "new",
            message: { id, date, text, files, replyTo: a.replyToId, ...(extra ? { extra } : {}) },
          },
          key("m"),
        ),
      ];
    }
    case "messageUpdate": {
      const { text, files } = messageContent(a, channel, o);
      const version = createHash("sha256")
        .update(`${a.timestamp ?? ""}\n${a.text ?? ""}`)
        .digest("hex");
      return [event({ kind: "edited", message: { id, date, text, files } }, key(`u${version.slice(0, 16)}`))];
    }
    case "messageDelete":
      return [event({ kind: "deleted", message: { id, date, text: "", files: [] } }, key("d"))];
    case "typing":
      return fromBot ? [] : [{ type: "typing", connector, data: { chat: { id: chat.id }, user, at: date } }];
    case "messageReaction": {
      const added = (a.reactionsAdded ?? []).map((r) => r.type);
      const removed = (a.reactionsRemoved ?? []).map((r) => r.type);
      if (added.length === 0 && removed.length === 0) return [];
      return [
        event(
          {
            kind: "new",
            event: "reaction",
            message: {
              id: `reaction-${id}`,
              date,
              text: added.map((r) => REACTIONS[r] ?? r).join(" "),
              files: [],
              replyTo: a.replyToId,
              extra: { reactionsAdded: added, reactionsRemoved: removed },
            },
          },
          key("r"),
        ),
      ];
    }
    case "conversationUpdate": {
      const botAdded = (a.membersAdded ?? []).some((m) => m.id === a.recipient.id);
      const people = (a.membersAdded ?? []).filter((m) => m.id !== a.recipient.id);
      const welcomed = people.length > 0 ? people : botAdded && !fromBot ? [a.from] : [];
      const events = welcomed.map((m) =>
        event(
          {
            kind: "new",
            event: "welcome",
            user: profileOf(m, a.locale),
            message: { id: `welcome-${id}-${m.id}`.slice(0, 256), date, text: "", files: [] },
          },
          key(`c${m.id}`),
        ),
      );
      if ((a.membersRemoved ?? []).some((m) => m.id === a.recipient.id))
        events.push(closed(`removed-${id}`, key("x")));
      return events;
    }
    case "installationUpdate": {
      const action = a.action ?? "";
      if (action.startsWith("add"))
        return [
          event(
            { kind: "new", event: "welcome", message: { id: `install-${id}`, date, text: "", files: [] } },
            key("i"),
          ),
        ];
      if (action.startsWith("remove")) return [closed(`uninstall-${id}`, key("i"))];
      return [];
    }
    case "endOfConversation":
      return [closed(`end-${id}`, key("e"), a.code ? { code: a.code } : undefined)];
    default:
      return [];
  }

  function closed(messageId: string, dedupKey: string, extra?: Record<string, unknown>): InboundEvent {
    return event(
      {
        kind: "new",
        event: "closedByUser",
        message: { id: messageId, date, text: "", files: [], ...(extra ? { extra } : {}) },
      },
      dedupKey,
    );
  }
}

function chatOf(a: Activity): MessagePayload["chat"] {
  const c = a.conversation;
  const type =
    c.conversationType === "channel"
      ? "channel"
      : c.isGroup || c.conversationType === "groupChat"
        ? "group"
        : "private";
  return { id: c.id, type, ...(c.name && type !== "private" ? { title: c.name } : {}) };
}

function profileOf(account: ChannelAccount, locale?: string): UserProfile {
  return {
    id: account.id,
    ...(account.name ? { name: account.name } : {}),
    ...(locale && locale.length <= 35 ? { language: locale } : {}),
  };
}

// Private-use characters stand for mentions while the text is converted, then become mention nodes.
const MARK_OPEN = "\uE000";
const MARK_CLOSE = "\uE001";

/**
 * The text (in exchange markup, with the channel's emoticons as emoji) and the files of a message.
 * Mention entities become `[mention]`s; a mention of the bot itself is dropped (in group chats
 * users must address the bot, which is not part of what they say). Teams puts the formatted text
 * in a `text/html` attachment: that is read instead of the plain `text`.
 */
function messageContent(
  a: Activity,
  channel: BotChannel,
  o: ParseOptions,
): { text: string; files: FileLink[]; extra?: Record<string, unknown> } {
  const attachments = a.attachments ?? [];
  const html = attachments.find((x) => x.contentType === "text/html" && typeof x.content === "string");
  let raw = a.text ?? "";
  let format = a.textFormat;
  if (a.channelId === "msteams" && html) {
    raw = (html.content as string).replace(
      /<span[^>]*itemtype="http:\/\/schema\.skype\.com\/Mention"[^>]*>([\s\S]*?)<\/span>/g,
      "<at>$1</at>",
    );
    format = "xml";
  }
  const mentions = (a.entities ?? []).filter(
    (e): e is Entity & { mentioned: { id: string } } => e.type === "mention" && !!e.mentioned?.id,
  );
  mentions.forEach((m, i) => {
    const written = m.text ?? (m.mentioned.name ? `@${m.mentioned.name}` : undefined);
    if (written && raw.includes(written)) raw = raw.replace(written, `${MARK_OPEN}${i}${MARK_CLOSE}`);
  });
  let nodes = channel.read(raw, format, a.channelData);
  nodes = withMentions(nodes, mentions, a.recipient.id);
  nodes = withEmoticons(nodes, channel.emoticons);
  const text = printMarkup(trimNodes(nodes));

  const files: FileLink[] = [];
  const cards: Attachment[] = [];
  for (const att of attachments) {
    if (att === html) continue;
    const file = fileOf(att, a.serviceUrl, o.fileLink);
    if (file) files.push(file);
    else if (att.contentType !== "text/html") cards.push(att);
  }
  return { text, files: files.slice(0, 50), extra: cards.length ? { attachments: cards } : undefined };
}

function withMentions(
  nodes: MarkupNode[],
  mentions: (Entity & { mentioned: { id: string; name?: string } })[],
  botId: string,
): MarkupNode[] {
  const out: MarkupNode[] = [];
  const split = new RegExp(`${MARK_OPEN}(\\d+)${MARK_CLOSE}`, "g");
  for (const n of nodes) {
    if (n.type === "text") {
      let at = 0;
      for (const m of n.text.matchAll(split)) {
        if (m.index > at) out.push({ type: "text", text: n.text.slice(at, m.index) });
        at = m.index + m[0].length;
        const mention = mentions[Number(m[1])];
        if (!mention || mention.mentioned.id === botId) continue;
        const name = mention.mentioned.name ?? (mention.text ?? "").replace(/<[^>]*>/g, "");
        out.push({ type: "mention", id: mention.mentioned.id, children: [{ type: "text", text: name }] });
      }
      if (at < n.text.length) out.push({ type: "text", text: n.text.slice(at) });
    } else if (n.type === "code" || n.type === "pre") out.push(n);
    else out.push({ ...n, children: withMentions(n.children, mentions, botId) });
  }
  return out;
}

/** Drops the whitespace a removed bot mention leaves at the start and end of the text. */
function trimNodes(nodes: MarkupNode[]): MarkupNode[] {
  const out = nodes.filter((n) => n.type !== "text" || n.text !== "");
  const first = out[0];
  if (first?.type === "text") out[0] = { type: "text", text: first.text.replace(/^\s+/, "") };
  const last = out[out.length - 1];
  if (last?.type === "text") out[out.length - 1] = { type: "text", text: last.text.replace(/\s+$/, "") };
  return out;
}

const KIND_BY_PREFIX: [string, NonNullable<FileLink["kind"]>][] = [
  ["image/", "image"],
  ["video/", "video"],
  ["audio/", "audio"],
];

/**
 * A file attachment as a link. Teams' file-download info carries its own download URL. A file
 * stored by the Bot Connector itself (same host as the serviceUrl) needs the bot's token to be
 * downloaded, so it becomes a hub file link that `resolveFile` serves with the token.
 */
function fileOf(att: Attachment, serviceUrl: string, fileLink: FileMaker): FileLink | undefined {
  let url = att.contentUrl;
  let type = att.contentType;
  if (type === "application/vnd.microsoft.teams.file.download.info") {
    const c = att.content as { downloadUrl?: string; fileType?: string } | undefined;
    url = c?.downloadUrl;
    type = "application/octet-stream";
  }
  if (!url || !/^https?:\/\//i.test(url)) return undefined;
  let name = att.name;
  let host = "";
  try {
    const u = new URL(url);
    host = u.host;
    name ||= decodeURIComponent(u.pathname.split("/").pop() || "") || "file";
  } catch {
    return undefined;
  }
  if (!type || type.startsWith("application/vnd.microsoft.card")) return undefined;
  const kind = KIND_BY_PREFIX.find(([p]) => type.startsWith(p))?.[1] ?? "document";
  const file = { name: name.slice(0, 1024), type: type.slice(0, 255) };
  let serviceHost = "";
  try {
    serviceHost = new URL(serviceUrl).host;
  } catch {}
  const link = host === serviceHost ? fileLink(url, file) : url;
  return { url: link, ...file, kind };
}
