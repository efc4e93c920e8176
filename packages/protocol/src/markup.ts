/**
 * The exchange markup: the one rich-text format of message text between hub and portal. It is
 * BBCode-like, as in the source system. Connectors convert each channel's entities to and from
 * it; the portal renders it with `toHtml`; channels without formatting get `toPlainText`.
 *
 *   [b]bold[/b]  [i]italic[/i]  [u]underline[/u]  [s]strike[/s]  [spoiler]…[/spoiler]
 *   [quote]…[/quote]  [code]inline code[/code]  [pre lang=ts]block, no tags inside[/pre]
 *   [url=https://example.com]text[/url]  [url]https://example.com[/url]
 *   [mention=<platform user id>]Name[/mention]
 *
 * Line breaks are "\n"; emoji are plain Unicode. Tag names are lower case only.
 *
 * Escape rule: `[[` always stands for one literal `[` (also inside code and pre). The printer
 * writes `[[` only where a `[` would otherwise be read as part of a tag or an escape: before
 * another `[`, before something shaped like a known tag, and at the end of a text that a tag
 * follows. Every other `[` (as in "see [1]") stays single, so the canonical text stays readable.
 *
 * The parser never throws. A tag that is unknown, malformed, unbalanced, unclosed at the end of
 * the text, nested deeper than MAX_MARKUP_DEPTH, or a link to an unsafe URL stays literal text.
 * A closing tag closes only the innermost open tag; any other closing tag is literal.
 */

export interface TextNode {
  type: "text";
  text: string;
}
export interface StyleNode {
  type: "bold" | "italic" | "underline" | "strike" | "quote" | "spoiler";
  children: MarkupNode[];
}
export interface CodeNode {
  type: "code";
  text: string;
}
export interface PreNode {
  type: "pre";
  text: string;
  lang?: string;
}
export interface LinkNode {
  type: "link";
  url: string;
  children: MarkupNode[];
}
export interface MentionNode {
  type: "mention";
  /** The platform's user id. */
  id: string;
  children: MarkupNode[];
}
export type MarkupNode = TextNode | StyleNode | CodeNode | PreNode | LinkNode | MentionNode;
export type MarkupNodeType = MarkupNode["type"];

/** Open tags nested deeper than this stay literal, so printing and rendering never overflow the stack. */
export const MAX_MARKUP_DEPTH = 32;

const STYLE_TAGS = {
  b: "bold",
  i: "italic",
  u: "underline",
  s: "strike",
  quote: "quote",
  spoiler: "spoiler",
} as const satisfies Record<string, StyleNode["type"]>;
const STYLE_TAG_OF: Record<StyleNode["type"], string> = {
  bold: "b",
  italic: "i",
  underline: "u",
  strike: "s",
  quote: "quote",
  spoiler: "spoiler",
};

const LANG = /^[A-Za-z0-9_+#.-]{1,32}$/;
const MENTION_ID = /^[^[\]\n\r]{1,256}$/;
// Syntax of a tag at a position (sticky). Shared by the parser and the printer's escaping.
const OPEN_TAG =
  /\[(?:(b|i|u|s|quote|spoiler|code)|pre(?: lang=([A-Za-z0-9_+#.-]{1,32}))?|(url)(?:=([^[\]\s]{1,2048}))?|mention=([^[\]\n\r]{1,256}))\]/y;
const CLOSE_TAG = /\[\/(b|i|u|s|quote|spoiler|code|pre|url|mention)\]/y;

function matchAt(re: RegExp, s: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(s);
}

/**
 * True for the links the exchange allows: http(s) with a host, mailto: and tel:, with no
 * whitespace, control characters or square brackets (percent-encode them), at most 2048 chars.
 */
export function isSafeUrl(url: string): boolean {
  if (url.length === 0 || url.length > 2048 || /[\s[\]\u0000-\u001f\u007f]/.test(url)) return false;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "mailto" || scheme === "tel") return url.length > scheme.length + 1;
  if (scheme !== "http" && scheme !== "https") return false;
  try {
    return new URL(url).host.length > 0 && /^https?:\/\/[^/]/i.test(url);
  } catch {
    return false;
  }
}

interface Frame {
  node: StyleNode | LinkNode | MentionNode | null;
  /** The open tag as written, restored as text if the frame is never closed. */
  raw: string;
  tag: string;
  children: MarkupNode[];
}

function pushText(children: MarkupNode[], text: string): void {
  if (!text) return;
  const last = children[children.length - 1];
  if (last?.type === "text") last.text += text;
  else children.push({ type: "text", text });
}

/**
 * Reads verbatim content (code, pre, bare url) from `from` up to the first `[/tag]`, with `[[`
 * read as `[`. Returns the content and the index after the closing tag, or null when unclosed.
 */
function readVerbatim(s: string, from: number, tag: string): { text: string; end: number } | null {
  const close = `[/${tag}]`;
  let out = "";
  let j = from;
  while (j < s.length) {
    const k = s.indexOf("[", j);
    if (k < 0) return null;
    out += s.slice(j, k);
    if (s[k + 1] === "[") {
      out += "[";
      j = k + 2;
    } else if (s.startsWith(close, k)) {
      return { text: out, end: k + close.length };
    } else {
      out += "[";
      j = k + 1;
    }
  }
  return null;
}

/**
 * Reads the URL of `[url]…[/url]`. A URL holds no `[`, so the first `[` must start `[/url]`:
 * stopping there keeps many `[url]` tags without a valid URL linear to parse.
 */
function readBareUrl(s: string, from: number): { text: string; end: number } | null {
  const k = s.indexOf("[", from);
  return k >= 0 && s.startsWith("[/url]", k) ? { text: s.slice(from, k), end: k + 6 } : null;
}

/** Parses exchange markup into its tree. Never throws; see the module comment for the rules. */
export function parseMarkup(input: string): MarkupNode[] {
  const s = typeof input === "string" ? input : String(input ?? "");
  const root: Frame = { node: null, raw: "", tag: "", children: [] };
  const stack: Frame[] = [root];
  // Where a verbatim scan for a tag already failed: later opens of that tag fail too (no O(n²)).
  const noCloseFrom: Record<string, number> = {};
  let text = "";
  let i = 0;
  const top = () => stack[stack.length - 1];
  const flush = () => {
    pushText(top().children, text);
    text = "";
  };
  while (i < s.length) {
    const k = s.indexOf("[", i);
    if (k < 0) {
      text += s.slice(i);
      break;
    }
    text += s.slice(i, k);
    i = k;
    if (s[i + 1] === "[") {
      text += "[";
      i += 2;
      continue;
    }
    const open = matchAt(OPEN_TAG, s, i);
    // Depth is checked for tags that open a frame only; code, pre and a bare url hold no tags.
    const canNest = stack.length <= MAX_MARKUP_DEPTH;
    if (open) {
      const raw = open[0];
      const after = i + raw.length;
      const [, style, lang, url, urlValue, mentionId] = open;
      if (style === "code" || raw.startsWith("[pre") || (url && urlValue === undefined)) {
        const tag = style === "code" ? "code" : url ? "url" : "pre";
        const body =
          tag === "url"
            ? readBareUrl(s, after)
            : (noCloseFrom[tag] ?? Infinity) <= i
              ? null
              : readVerbatim(s, after, tag);
        if (!body && tag !== "url") noCloseFrom[tag] = Math.min(noCloseFrom[tag] ?? Infinity, i);
        if (body && (tag !== "url" || isSafeUrl(body.text))) {
          flush();
          const node: MarkupNode =
            tag === "code"
              ? { type: "code", text: body.text }
              : tag === "pre"
                ? lang === undefined
                  ? { type: "pre", text: body.text }
                  : { type: "pre", text: body.text, lang }
                : { type: "link", url: body.text, children: [{ type: "text", text: body.text }] };
          top().children.push(node);
          i = body.end;
          continue;
        }
      } else if (style && canNest) {
        flush();
        const node: StyleNode = { type: STYLE_TAGS[style as keyof typeof STYLE_TAGS], children: [] };
        stack.push({ node, raw, tag: style, children: node.children });
        i = after;
        continue;
      } else if (url && urlValue !== undefined && canNest && isSafeUrl(urlValue)) {
        flush();
        const node: LinkNode = { type: "link", url: urlValue, children: [] };
        stack.push({ node, raw, tag: "url", children: node.children });
        i = after;
        continue;
      } else if (mentionId !== undefined && canNest) {
        flush();
        const node: MentionNode = { type: "mention", id: mentionId, children: [] };
        stack.push({ node, raw, tag: "mention", children: node.children });
        i = after;
        continue;
      }
    }
    const close = matchAt(CLOSE_TAG, s, i);
    if (close && stack.length > 1 && top().tag === close[1]) {
      flush();
      const frame = stack.pop()!;
      top().children.push(frame.node!);
      i += close[0].length;
      continue;
    }
    text += "[";
    i += 1;
  }
  flush();
  // Unclosed tags stay literal: their open tag becomes text and their children join the parent.
  while (stack.length > 1) {
    const frame = stack.pop()!;
    const parent = top().children;
    pushText(parent, frame.raw);
    for (const child of frame.children) {
      if (child.type === "text") pushText(parent, child.text);
      else parent.push(child);
    }
  }
  return root.children;
}

/**
 * The canonical form of a tree, which is what `parseMarkup(printMarkup(nodes))` returns: adjacent
 * texts merged, empty texts dropped, links to unsafe URLs and mentions with an id that cannot be
 * written replaced by their content, a bad `pre` language dropped, nesting cut at MAX_MARKUP_DEPTH.
 */
export function normalizeMarkup(nodes: readonly MarkupNode[]): MarkupNode[] {
  const out: MarkupNode[] = [];
  appendNormal(out, nodes, 1);
  return out;
}

function appendNormal(out: MarkupNode[], nodes: readonly MarkupNode[], depth: number): void {
  for (const n of nodes) {
    switch (n.type) {
      case "text":
        pushText(out, n.text);
        break;
      case "code":
        out.push({ type: "code", text: n.text });
        break;
      case "pre":
        out.push(
          n.lang !== undefined && LANG.test(n.lang)
            ? { type: "pre", text: n.text, lang: n.lang }
            : { type: "pre", text: n.text },
        );
        break;
      case "link":
      case "mention": {
        const ok = n.type === "link" ? isSafeUrl(n.url) : MENTION_ID.test(n.id);
        if (!ok || depth > MAX_MARKUP_DEPTH) {
          appendNormal(out, n.children, depth);
          break;
        }
        const children: MarkupNode[] = [];
        appendNormal(children, n.children, depth + 1);
        out.push(
          n.type === "link"
            ? { type: "link", url: n.url, children }
            : { type: "mention", id: n.id, children },
        );
        break;
      }
      default: {
        if (depth > MAX_MARKUP_DEPTH) {
          appendNormal(out, n.children, depth);
          break;
        }
        const children: MarkupNode[] = [];
        appendNormal(children, n.children, depth + 1);
        out.push({ type: n.type, children });
      }
    }
  }
}

/** Escapes literal text: `[` becomes `[[` where it would otherwise start a tag or an escape. */
function escapeText(t: string, followed: boolean): string {
  let out = "";
  let from = 0;
  for (let k = t.indexOf("["); k >= 0; k = t.indexOf("[", k + 1)) {
    const needs =
      t[k + 1] === "[" ||
      (k === t.length - 1 && followed) ||
      matchAt(OPEN_TAG, t, k) !== null ||
      matchAt(CLOSE_TAG, t, k) !== null;
    if (needs) {
      out += t.slice(from, k + 1) + "[";
      from = k + 1;
    }
  }
  return out + t.slice(from);
}

/** Escapes verbatim content: `[` becomes `[[` before `[`, before the closing tag, and at the end. */
function escapeVerbatim(t: string, tag: string): string {
  const close = `/${tag}]`;
  let out = "";
  let from = 0;
  for (let k = t.indexOf("["); k >= 0; k = t.indexOf("[", k + 1)) {
    if (t[k + 1] === "[" || k === t.length - 1 || t.startsWith(close, k + 1)) {
      out += t.slice(from, k + 1) + "[";
      from = k + 1;
    }
  }
  return out + t.slice(from);
}

/** Writes a tree as canonical exchange markup (after normalizeMarkup). */
export function printMarkup(nodes: readonly MarkupNode[]): string {
  return printNodes(normalizeMarkup(nodes), false);
}

function printNodes(nodes: readonly MarkupNode[], followed: boolean): string {
  let out = "";
  nodes.forEach((n, idx) => {
    const next = idx < nodes.length - 1 || followed;
    switch (n.type) {
      case "text":
        out += escapeText(n.text, next);
        break;
      case "code":
        out += `[code]${escapeVerbatim(n.text, "code")}[/code]`;
        break;
      case "pre":
        out += `[pre${n.lang ? ` lang=${n.lang}` : ""}]${escapeVerbatim(n.text, "pre")}[/pre]`;
        break;
      case "link": {
        const only = n.children.length === 1 ? n.children[0] : undefined;
        out +=
          only?.type === "text" && only.text === n.url
            ? `[url]${n.url}[/url]`
            : `[url=${n.url}]${printNodes(n.children, true)}[/url]`;
        break;
      }
      case "mention":
        out += `[mention=${n.id}]${printNodes(n.children, true)}[/mention]`;
        break;
      default: {
        const tag = STYLE_TAG_OF[n.type];
        out += `[${tag}]${printNodes(n.children, true)}[/${tag}]`;
      }
    }
  });
  return out;
}

const asNodes = (input: string | readonly MarkupNode[]) =>
  typeof input === "string" ? parseMarkup(input) : normalizeMarkup(input);

/**
 * Text without formatting, for channels that have none and for previews: styles dropped, a
 * mention becomes its name, a link "text (url)" when the text differs from the URL, quoted lines
 * start with "> ".
 */
export function toPlainText(input: string | readonly MarkupNode[]): string {
  return plain(asNodes(input));
}

function plain(nodes: readonly MarkupNode[]): string {
  let out = "";
  for (const n of nodes) {
    switch (n.type) {
      case "text":
      case "code":
      case "pre":
        out += n.text;
        break;
      case "link": {
        const text = plain(n.children);
        const bare = n.url.replace(/^mailto:|^tel:/i, "");
        out += text === "" || text === n.url ? n.url : text === bare ? text : `${text} (${n.url})`;
        break;
      }
      case "quote":
        out += plain(n.children)
          .split("\n")
          .map((line) => `> ${line}`)
          .join("\n");
        break;
      default:
        out += plain(n.children);
    }
  }
  return out;
}

/** Length of the visible text (what toPlainText gives, links shown by their text only). */
export function markupLength(
  input: string | readonly MarkupNode[],
  unit: "codePoints" | "utf16" = "codePoints",
): number {
  const visible = (nodes: readonly MarkupNode[]): string =>
    nodes.map((n) => ("children" in n ? (n.children.length ? visible(n.children) : "") : n.text)).join("");
  const text = visible(asNodes(input));
  if (unit === "utf16") return text.length;
  let count = 0;
  for (const _ of text) count++;
  return count;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

const HTML_TAG: Record<StyleNode["type"], [string, string]> = {
  bold: ["<strong>", "</strong>"],
  italic: ["<em>", "</em>"],
  underline: ["<u>", "</u>"],
  strike: ["<s>", "</s>"],
  quote: ["<blockquote>", "</blockquote>"],
  spoiler: ['<span class="spoiler">', "</span>"],
};

/**
 * Safe HTML for the portal: every text escaped, line breaks as <br>, only http(s)/mailto/tel
 * links (others, and links inside links, render as their text), no attribute from input except
 * an escaped URL, mention id and pre language.
 */
export function toHtml(input: string | readonly MarkupNode[]): string {
  return html(asNodes(input), false);
}

function html(nodes: readonly MarkupNode[], inLink: boolean): string {
  let out = "";
  for (const n of nodes) {
    switch (n.type) {
      case "text":
        out += escapeHtml(n.text).replace(/\r?\n/g, "<br>");
        break;
      case "code":
        out += `<code>${escapeHtml(n.text)}</code>`;
        break;
      case "pre":
        out += `<pre><code${n.lang ? ` class="language-${escapeHtml(n.lang)}"` : ""}>${escapeHtml(n.text)}</code></pre>`;
        break;
      case "link":
        out +=
          inLink || !isSafeUrl(n.url)
            ? html(n.children, inLink)
            : `<a href="${escapeHtml(n.url)}" rel="noopener noreferrer nofollow" target="_blank">${html(n.children, true)}</a>`;
        break;
      case "mention":
        out += `<span class="mention" data-user-id="${escapeHtml(n.id)}">${html(n.children, inLink)}</span>`;
        break;
      default: {
        const [open, close] = HTML_TAG[n.type];
        out += open + html(n.children, inLink) + close;
      }
    }
  }
  return out;
}
