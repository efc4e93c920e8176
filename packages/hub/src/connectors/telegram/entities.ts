import type { MarkupNode } from "./markup.js";

/** A Telegram MessageEntity; offsets and lengths count UTF-16 code units, as JS strings do. */
export interface TelegramEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  user?: { id: number; first_name?: string };
  language?: string;
  custom_emoji_id?: string;
}

type Kind =
  | { type: "bold" | "italic" | "underline" | "strike" | "spoiler" | "quote" }
  | { type: "code" }
  | { type: "pre"; lang?: string }
  | { type: "link"; url: string }
  | { type: "mention"; id: string };

/** What each entity type becomes in the exchange markup; undefined = plain text. */
function kindOf(e: TelegramEntity, text: string): Kind | undefined {
  const covered = text.slice(e.offset, e.offset + e.length);
  switch (e.type) {
    case "bold":
      return { type: "bold" };
    case "italic":
      return { type: "italic" };
    case "underline":
      return { type: "underline" };
    case "strikethrough":
      return { type: "strike" };
    case "spoiler":
      return { type: "spoiler" };
    case "blockquote":
    case "expandable_blockquote":
      return { type: "quote" };
    case "code":
      return { type: "code" };
    case "pre":
      return { type: "pre", lang: e.language || undefined };
    case "text_link": {
      const user = /^tg:\/\/user\?id=(\d+)$/.exec(e.url ?? "");
      if (user) return { type: "mention", id: user[1] };
      return e.url ? { type: "link", url: e.url } : undefined;
    }
    case "url":
      return { type: "link", url: /^[a-z][a-z0-9+.-]*:/i.test(covered) ? covered : `http://${covered}` };
    case "email":
      return { type: "link", url: `mailto:${covered}` };
    case "mention":
      return { type: "link", url: `https://t.me/${covered.replace(/^@/, "")}` };
    case "text_mention":
      return e.user ? { type: "mention", id: String(e.user.id) } : undefined;
    // custom_emoji: the covered text already is its fallback emoji; hashtag, cashtag, bot_command,
    // phone_number and newer types stay plain text.
    default:
      return undefined;
  }
}

interface Span {
  start: number;
  end: number;
  kind: Kind;
  children: Span[];
}

/**
 * Converts a Telegram text with its entities to exchange markup nodes. Entities nest; one that
 * overlaps its parent's end is cut there and continued as a sibling, so any entity list gives a
 * well-formed tree. Nothing nests inside code or pre (Telegram does not allow it either).
 */
export function entitiesToMarkup(text: string, entities: TelegramEntity[] = []): MarkupNode[] {
  const pending: Span[] = [];
  for (const e of entities) {
    const start = Math.max(0, Math.min(text.length, e.offset));
    const end = Math.max(start, Math.min(text.length, e.offset + e.length));
    const kind = kindOf(e, text);
    if (kind && end > start) pending.push({ start, end, kind, children: [] });
  }
  pending.sort((a, b) => a.start - b.start || b.end - a.end);

  const root: Span = { start: 0, end: text.length, kind: { type: "bold" }, children: [] };
  const stack: Span[] = [root];
  while (pending.length > 0) {
    const span = pending.shift()!;
    while (stack.length > 1 && stack[stack.length - 1].end <= span.start) stack.pop();
    const parent = stack[stack.length - 1];
    if (parent.kind.type === "code" || parent.kind.type === "pre") continue;
    if (span.end > parent.end) {
      const rest: Span = { start: parent.end, end: span.end, kind: span.kind, children: [] };
      span.end = parent.end;
      const at = pending.findIndex(
        (p) => p.start > rest.start || (p.start === rest.start && p.end < rest.end),
      );
      pending.splice(at < 0 ? pending.length : at, 0, rest);
    }
    parent.children.push(span);
    stack.push(span);
  }
  return build(text, root);
}

function build(text: string, span: Span): MarkupNode[] {
  const out: MarkupNode[] = [];
  let at = span.start;
  const plain = (to: number) => {
    if (to > at) out.push({ type: "text", text: text.slice(at, to) });
  };
  for (const child of span.children) {
    plain(child.start);
    out.push(node(text, child));
    at = child.end;
  }
  plain(span.end);
  return out;
}

function node(text: string, span: Span): MarkupNode {
  const k = span.kind;
  const inner = text.slice(span.start, span.end);
  switch (k.type) {
    case "code":
      return { type: "code", text: inner };
    case "pre":
      return { type: "pre", lang: k.lang, text: inner };
    case "link":
      return { type: "link", url: k.url, children: build(text, span) };
    case "mention":
      return { type: "mention", id: k.id, children: build(text, span) };
    default:
      return { type: k.type, children: build(text, span) };
  }
}
