import type { MarkupNode } from "@openlines/protocol/markup";
import { escapeXml } from "./entities.js";
import { inlineParser, SKYPE_PLAIN_RULES } from "./inline.js";
import { type TagRules, tagsToMarkup } from "./tags.js";

/**
 * Skype's own text: plain text carries Skype's marks (`*bold*`, `_italic_`, `~strike~`,
 * `{code}…{code}`); `xml` text carries its XML-like tags — `<b raw_pre="*">`, `<i>`, `<s>`,
 * `<pre>`, `<a href>`, `<at id>` mentions, `<ss type="smile">:)</ss>` emoticons, `<quote>` with a
 * `<legacyquote>` fallback, `<e_m>` edit marks. Emoticons in `<ss>` become emoji by their type
 * through the channel's emoticon table; the rest of the conversion to emoji happens on text.
 */
export const skypePlainToMarkup = inlineParser(SKYPE_PLAIN_RULES);

export function skypeXmlToMarkup(input: string, emoticons: Record<string, string> = {}): MarkupNode[] {
  const rules: TagRules = {
    b: { node: "bold" },
    strong: { node: "bold" },
    i: { node: "italic" },
    em: { node: "italic" },
    u: { node: "underline" },
    s: { node: "strike" },
    strike: { node: "strike" },
    pre: { node: "pre" },
    code: { node: "code" },
    a: { node: "link", attr: "href" },
    at: { node: "mention", attr: "id" },
    quote: { node: "quote" },
    legacyquote: { node: "drop" },
    e_m: { node: "drop" },
    br: { node: "break" },
    ss: {
      node: "replace",
      replace: (attrs, text) => emoticons[`(${attrs.type ?? ""})`] ?? emoticons[text.trim()],
    },
    uriobject: { node: "drop" },
  };
  return tagsToMarkup(input, rules);
}

/** Exchange markup to Skype's XML-like text (sent with textFormat `xml`). */
export function markupToSkypeXml(nodes: readonly MarkupNode[]): string {
  let out = "";
  for (const n of nodes) {
    switch (n.type) {
      case "text":
        out += escapeXml(n.text);
        break;
      case "code":
      case "pre":
        out += `<pre>${escapeXml(n.text)}</pre>`;
        break;
      case "bold":
        out += `<b>${markupToSkypeXml(n.children)}</b>`;
        break;
      case "italic":
        out += `<i>${markupToSkypeXml(n.children)}</i>`;
        break;
      case "strike":
        out += `<s>${markupToSkypeXml(n.children)}</s>`;
        break;
      case "link":
        out += `<a href="${escapeXml(n.url)}">${markupToSkypeXml(n.children)}</a>`;
        break;
      case "mention":
        out += `<at id="${escapeXml(n.id)}">${markupToSkypeXml(n.children)}</at>`;
        break;
      case "quote":
        out += `<quote>${markupToSkypeXml(n.children)}</quote>`;
        break;
      default:
        out += markupToSkypeXml(n.children);
    }
  }
  return out;
}
