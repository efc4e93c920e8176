import type { MarkupNode } from "@openlines/protocol/markup";
import { escapeXml } from "./entities.js";
import { type TagRules, tagsToMarkup } from "./tags.js";

const TEAMS_RULES: TagRules = {
  b: { node: "bold" },
  strong: { node: "bold" },
  i: { node: "italic" },
  em: { node: "italic" },
  u: { node: "underline" },
  ins: { node: "underline" },
  s: { node: "strike" },
  strike: { node: "strike" },
  del: { node: "strike" },
  code: { node: "code" },
  pre: { node: "pre" },
  a: { node: "link", attr: "href" },
  blockquote: { node: "quote" },
  at: { node: "mention" },
  br: { node: "break" },
  p: { node: "block" },
  div: { node: "block" },
  h1: { node: "block" },
  h2: { node: "block" },
  h3: { node: "block" },
  li: { node: "item" },
  emoji: { node: "replace", replace: (attrs) => attrs.alt || undefined },
  img: { node: "replace", replace: (attrs) => (attrs.alt ? attrs.alt : "") },
  style: { node: "drop" },
  script: { node: "drop" },
};

/**
 * Teams' HTML subset (the `text/html` attachment of a message, or text sent as xml) to exchange
 * markup. `<at>Name</at>` becomes a mention whose id the caller fills from the mention entities.
 */
export function teamsHtmlToMarkup(input: string): MarkupNode[] {
  return tagsToMarkup(input, TEAMS_RULES);
}

export interface TeamsMention {
  type: "mention";
  mentioned: { id: string; name: string };
  text: string;
}

/**
 * Exchange markup to the HTML Teams renders (textFormat `xml`), with line breaks as `<br>`; each
 * mention becomes `<at>Name</at>` plus the mention entity Teams requires beside the text.
 */
export function markupToTeamsHtml(nodes: readonly MarkupNode[]): { html: string; mentions: TeamsMention[] } {
  const mentions: TeamsMention[] = [];
  const walk = (list: readonly MarkupNode[]): string => {
    let out = "";
    for (const n of list) {
      switch (n.type) {
        case "text":
          out += escapeXml(n.text).replace(/\r?\n/g, "<br>");
          break;
        case "code":
          out += `<code>${escapeXml(n.text)}</code>`;
          break;
        case "pre":
          out += `<pre>${escapeXml(n.text)}</pre>`;
          break;
        case "bold":
          out += `<b>${walk(n.children)}</b>`;
          break;
        case "italic":
          out += `<i>${walk(n.children)}</i>`;
          break;
        case "underline":
          out += `<u>${walk(n.children)}</u>`;
          break;
        case "strike":
          out += `<s>${walk(n.children)}</s>`;
          break;
        case "quote":
          out += `<blockquote>${walk(n.children)}</blockquote>`;
          break;
        case "link":
          out += `<a href="${escapeXml(n.url)}">${walk(n.children)}</a>`;
          break;
        case "mention": {
          const name = plainOf(n.children);
          const text = `<at>${escapeXml(name)}</at>`;
          mentions.push({ type: "mention", mentioned: { id: n.id, name }, text });
          out += text;
          break;
        }
        default:
          out += walk(n.children);
      }
    }
    return out;
  };
  return { html: walk(nodes), mentions };
}

const plainOf = (nodes: readonly MarkupNode[]): string =>
  nodes.map((n) => ("children" in n ? plainOf(n.children) : n.text)).join("");
