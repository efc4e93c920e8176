import type { MarkupNode } from "@openlines/protocol/markup";
import { decodeEntities } from "./entities.js";
import { type InlineRule, inlineParser } from "./inline.js";

/**
 * Slack's mrkdwn as the Slack channel relays a user's text: `*bold*`, `_italic_`, `~strike~`,
 * `` `code` ``, ```` ```block``` ````, `<https://x|label>` and `<https://x>` links, `<@U123>` and
 * `<@U123|name>` user mentions, `<#C123|general>` channels, `<!here>` specials, `&amp;` `&lt;`
 * `&gt;` escapes. Entities are decoded inside each piece, after the `<…>` syntax was read.
 */
const span = (mark: string) => {
  const m = mark.replace(/[*]/g, "\\$&");
  return `(?<![\\p{L}\\p{N}])${m}(?=\\S)([^${m}\\n]*?\\S|\\S)${m}(?![\\p{L}\\p{N}])`;
};
const text = (t: string): MarkupNode => ({ type: "text", text: decodeEntities(t) });

const SLACK_RULES: InlineRule[] = [
  { re: "```\\n?([\\s\\S]+?)\\n?```", make: (m) => ({ type: "pre", text: decodeEntities(m[1]) }) },
  { re: "`([^`\\n]+)`", make: (m) => ({ type: "code", text: decodeEntities(m[1]) }) },
  {
    re: "<((?:https?|mailto):[^|>\\s]+)(?:\\|([^>]*))?>",
    make: (m) => {
      const url = decodeEntities(m[1]);
      return { type: "link", url, children: [text(m[2] || m[1])] };
    },
  },
  {
    re: "<@([UW][A-Z0-9]+)(?:\\|([^>]*))?>",
    make: (m) => ({ type: "mention", id: m[1], children: [text(m[2] ? m[2] : `@${m[1]}`)] }),
  },
  { re: "<#[CG][A-Z0-9]+\\|([^>]*)>", make: (m) => text(`#${m[1]}`) },
  { re: "<!(here|channel|everyone)(?:\\|[^>]*)?>", make: (m) => text(`@${m[1]}`) },
  { re: span("*"), make: (m, parse) => ({ type: "bold", children: parse(m[1]) }) },
  { re: span("_"), make: (m, parse) => ({ type: "italic", children: parse(m[1]) }) },
  { re: span("~"), make: (m, parse) => ({ type: "strike", children: parse(m[1]) }) },
];

const parse = inlineParser(SLACK_RULES);

/** Slack mrkdwn to exchange markup nodes; `&gt;`-quoted lines become quotes. */
export function slackToMarkup(input: string): MarkupNode[] {
  const out: MarkupNode[] = [];
  const lines = input.split("\n");
  let quote: string[] = [];
  let plain: string[] = [];
  const push = (nodes: MarkupNode[]) => {
    if (out.length) appendText(out, "\n");
    for (const n of nodes) n.type === "text" ? appendText(out, n.text) : out.push(n);
  };
  const flush = () => {
    if (plain.length) push(decodeAll(parse(plain.join("\n"))));
    if (quote.length) push([{ type: "quote", children: decodeAll(parse(quote.join("\n"))) }]);
    plain = [];
    quote = [];
  };
  for (const line of lines) {
    const q = /^&gt;\s?(.*)$/.exec(line);
    if (q ? plain.length : quote.length) flush();
    (q ? quote : plain).push(q ? q[1] : line);
  }
  flush();
  return out;
}

function appendText(out: MarkupNode[], t: string): void {
  const last = out[out.length - 1];
  if (last?.type === "text") last.text += t;
  else out.push({ type: "text", text: t });
}

/** Decodes entities in the plain text between the marks (pieces made by rules are decoded already). */
function decodeAll(nodes: MarkupNode[]): MarkupNode[] {
  return nodes.map((n) => {
    if (n.type === "text") return { type: "text", text: decodeEntities(n.text) };
    if (n.type === "code" || n.type === "pre" || n.type === "link" || n.type === "mention") return n;
    return { ...n, children: decodeAll(n.children) };
  });
}
