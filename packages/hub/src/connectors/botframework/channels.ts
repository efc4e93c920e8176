import type { Capabilities } from "@openlines/protocol";
import { type MarkupNode, toPlainText } from "@openlines/protocol/markup";
import { convertEmoji } from "../emoji/convert.js";
import { loadEmoticons } from "../emoji/load.js";
import { entitiesToMarkup, type TelegramEntity } from "../telegram/entities.js";
import { decodeEntities } from "./text/entities.js";
import { markdownToMarkup, markupToMarkdown } from "./text/markdown.js";
import { markupToSkypeXml, skypePlainToMarkup, skypeXmlToMarkup } from "./text/skype.js";
import { slackToMarkup } from "./text/slack.js";
import { markupToTeamsHtml, type TeamsMention, teamsHtmlToMarkup } from "./text/teams.js";

/** How a virtual channel's text is written in outgoing activities. */
export interface RenderedText {
  text: string;
  textFormat: "plain" | "markdown" | "xml";
  entities?: TeamsMention[];
}

/**
 * One virtual channel of the Bot Framework connector (DESIGN 3.3): the Bot Connector `channelId`
 * it stands for, its capabilities, its emoticon data, and its text conversion both ways.
 */
export interface BotChannel {
  /** Connector type seen by the portal: `botframework.skype`; `botframework` for the generic one. */
  type: string;
  title: string;
  capabilities: Capabilities;
  emoticons: Record<string, string>;
  /** Activity text (with its textFormat, and the channel's raw `channelData`) to markup nodes, before emoticons. */
  read(text: string, textFormat: string | undefined, channelData?: unknown): MarkupNode[];
  write(nodes: MarkupNode[]): RenderedText;
  /** Documents cannot go as attachments by URL (Teams): they become links in the text. */
  filesAsLinks?: boolean;
}

const emoticons = (name: string) => loadEmoticons(new URL(`./emoticons/${name}.json`, import.meta.url));

const SKYPE_EMOTICONS = emoticons("skype");

const ALL_KINDS: Capabilities["files"]["kinds"] = [
  "image",
  "video",
  "audio",
  "voice",
  "sticker",
  "document",
  "other",
];
const MARKDOWN_FORMATTING: Capabilities["formatting"] = [
  "bold",
  "italic",
  "strike",
  "code",
  "pre",
  "link",
  "quote",
];

/** What every Bot Framework channel shares; each channel overrides what differs. */
const base: Capabilities = {
  edit: false,
  delete: false,
  typing: true,
  readReceipts: false,
  deliveryReceipts: false,
  groupChats: true,
  // Files go as links (attachments with contentUrl); the channel fetches them.
  files: { kinds: ALL_KINDS, maxSizeBytes: 50 * 1024 * 1024, maxCount: 10 },
  textMaxLength: 4000,
  formatting: MARKDOWN_FORMATTING,
  replyWindowHours: null,
  templates: false,
};

/** By the activity's textFormat; plain is the default (Activity schema). */
const readByFormat = (text: string, format: string | undefined): MarkupNode[] =>
  format === "xml"
    ? teamsHtmlToMarkup(text)
    : format === "markdown"
      ? markdownToMarkup(text)
      : plainNodes(text);
const plainNodes = (text: string): MarkupNode[] => (text ? [{ type: "text", text }] : []);
const writeMarkdown = (nodes: MarkupNode[]): RenderedText => ({
  text: markupToMarkdown(nodes),
  textFormat: "markdown",
});
const writePlain = (nodes: MarkupNode[]): RenderedText => ({ text: toPlainText(nodes), textFormat: "plain" });

const markdownChannel = (
  type: string,
  title: string,
  caps: Partial<Capabilities>,
  emoticonFile = "ascii",
): BotChannel => ({
  type,
  title,
  capabilities: { ...base, ...caps },
  emoticons: emoticons(emoticonFile),
  read: readByFormat,
  write: writeMarkdown,
});

/** Channel ids (botframework-schema `Channels`) with a virtual channel of their own. */
export const BOT_CHANNELS: Record<string, BotChannel> = {
  skype: {
    type: "botframework.skype",
    title: "Skype (Bot Framework)",
    capabilities: {
      ...base,
      textMaxLength: 10_000,
      formatting: ["bold", "italic", "strike", "code", "pre", "link", "mention", "quote"],
    },
    emoticons: SKYPE_EMOTICONS,
    // Skype's plain text carries Skype's own marks; its xml (also seen without the textFormat) tags.
    read: (text, format) =>
      format === "xml" || /<(ss|b|i|s|at|a|pre|quote)[\s>]/.test(text)
        ? skypeXmlToMarkup(text, SKYPE_EMOTICONS)
        : format === "markdown"
          ? markdownToMarkup(text)
          : skypePlainToMarkup(decodeEntities(text)),
    write: (nodes) => ({ text: markupToSkypeXml(nodes), textFormat: "xml" }),
  },
  msteams: {
    type: "botframework.msteams",
    title: "Microsoft Teams (Bot Framework)",
    capabilities: {
      ...base,
      edit: true,
      delete: true,
      // Teams refuses messages over about 28 KB; text below that leaves room for markup.
      textMaxLength: 20_000,
      formatting: ["bold", "italic", "underline", "strike", "code", "pre", "link", "mention", "quote"],
    },
    emoticons: emoticons("msteams"),
    // Formatted text comes as xml (or in the text/html attachment, which parse reads as xml);
    // plain text is plain, with any `<at>` tag the mention entities did not claim unwrapped.
    read: (text, format) =>
      format === "xml"
        ? teamsHtmlToMarkup(text)
        : format === "markdown"
          ? markdownToMarkup(text)
          : plainNodes(text.replace(/<at>([\s\S]*?)<\/at>/g, "$1")),
    write: (nodes) => {
      const { html, mentions } = markupToTeamsHtml(nodes);
      return { text: html, textFormat: "xml", entities: mentions.length ? mentions : undefined };
    },
    filesAsLinks: true,
  },
  telegram: {
    ...markdownChannel("botframework.telegram", "Telegram (Bot Framework)", {
      edit: true,
      delete: true,
      textMaxLength: 4096,
    }),
    // The activity's text is plain; Telegram's own message in channelData keeps its entities.
    read: (text, format, channelData) => {
      const m = (channelData as { message?: Record<string, unknown> } | undefined)?.message;
      const [own, entities] =
        typeof m?.text === "string" ? [m.text, m.entities] : [m?.caption, m?.caption_entities];
      return own === text && Array.isArray(entities) && format !== "markdown" && format !== "xml"
        ? entitiesToMarkup(text, entities as TelegramEntity[])
        : readByFormat(text, format);
    },
  },
  slack: {
    ...markdownChannel(
      "botframework.slack",
      "Slack (Bot Framework)",
      { edit: true, delete: true, textMaxLength: 4000 },
      "slack",
    ),
    // The Slack channel relays the user's text in Slack's own mrkdwn (`*bold*`, `<url|label>`, `<@U1>`).
    read: (text, format) =>
      format === "markdown" || format === "xml" ? readByFormat(text, format) : slackToMarkup(text),
  },
  facebook: markdownChannel(
    "botframework.facebook",
    "Facebook Messenger (Bot Framework)",
    // Messenger: 2000 characters, and free replies only within 24 hours of the customer's message.
    { textMaxLength: 2000, replyWindowHours: 24, groupChats: false },
    "facebook",
  ),
  webchat: markdownChannel("botframework.webchat", "Web Chat (Bot Framework)", { groupChats: false }),
  directline: markdownChannel("botframework.directline", "Direct Line (Bot Framework)", {
    groupChats: false,
  }),
  sms: {
    type: "botframework.sms",
    title: "SMS (Bot Framework, Twilio)",
    capabilities: {
      ...base,
      typing: false,
      groupChats: false,
      files: { kinds: ["image"], maxSizeBytes: 5 * 1024 * 1024, maxCount: 10 },
      textMaxLength: 1600,
      formatting: [],
    },
    emoticons: emoticons("ascii"),
    read: plainNodes,
    write: writePlain,
  },
  email: {
    type: "botframework.email",
    title: "Email (Bot Framework, Office 365)",
    capabilities: { ...base, typing: false, groupChats: false, textMaxLength: 100_000 },
    emoticons: emoticons("ascii"),
    read: (text, format) => (format === "markdown" ? markdownToMarkup(text) : plainNodes(text)),
    write: writeMarkdown,
  },
};

/** Every other channel id (kik, line, groupme, twilio-sms, test…): the real connector's own type. */
export const GENERIC_CHANNEL: BotChannel = markdownChannel("botframework", "Microsoft Bot Framework", {});

export function channelOf(channelId: string): BotChannel {
  return Object.hasOwn(BOT_CHANNELS, channelId) ? BOT_CHANNELS[channelId] : GENERIC_CHANNEL;
}

/** The channel of a virtual connector type (outgoing side). */
export function channelOfType(type: string): BotChannel {
  return Object.values(BOT_CHANNELS).find((c) => c.type === type) ?? GENERIC_CHANNEL;
}

/** Applies a channel's emoticons (and `:shortcodes:`) to the text of markup nodes, not inside code. */
export function withEmoticons(nodes: MarkupNode[], table: Record<string, string>): MarkupNode[] {
  return nodes.map((n) => {
    if (n.type === "text") return { type: "text", text: convertEmoji(n.text, table) };
    if (n.type === "code" || n.type === "pre") return n;
    return { ...n, children: withEmoticons(n.children, table) };
  });
}
