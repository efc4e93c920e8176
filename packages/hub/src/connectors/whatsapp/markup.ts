import { type MarkupNode, normalizeMarkup, parseMarkup, printMarkup } from "@openlines/protocol";

/**
 * WhatsApp's inline formatting (channels.md §4.3) to and from the exchange markup:
 * `*bold*`, `_italic_`, `~strike~`, `` `code` ``, ```` ```monospace``` ````, and `> ` quoted lines.
 * A delimiter counts only when it hugs non-space text and is not inside a word, as WhatsApp renders
 * it; everything else stays literal.
 */
const INLINE = /```([\s\S]+?)```|`([^`\n]+)`|(?<![\p{L}\p{N}*_~])([*_~])(?=\S)([^\n]*?\S)\3(?![\p{L}\p{N}])/u;
const STYLE = { "*": "bold", _: "italic", "~": "strike" } as const;

function inline(text: string): MarkupNode[] {
  const out: MarkupNode[] = [];
  let rest = text;
  for (;;) {
    const m = INLINE.exec(rest);
    if (!m) break;
    if (m.index > 0) out.push({ type: "text", text: rest.slice(0, m.index) });
    if (m[1] !== undefined) out.push({ type: "pre", text: m[1] });
    else if (m[2] !== undefined) out.push({ type: "code", text: m[2] });
    else out.push({ type: STYLE[m[3] as keyof typeof STYLE], children: inline(m[4]) });
    rest = rest.slice(m.index + m[0].length);
  }
  if (rest) out.push({ type: "text", text: rest });
  return out;
}

/** WhatsApp text as typed by the customer → exchange markup. */
export function whatsappToMarkup(text: string): string {
  const nodes: MarkupNode[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; ) {
    if (nodes.length > 0) nodes.push({ type: "text", text: "\n" });
    if (lines[i].startsWith("> ")) {
      const quoted: string[] = [];
      while (i < lines.length && lines[i].startsWith("> ")) quoted.push(lines[i++].slice(2));
      nodes.push({ type: "quote", children: inline(quoted.join("\n")) });
    } else {
      // a fenced block may span lines: take lines up to the closing fence together
      let chunk = lines[i++];
      while ((chunk.match(/```/g)?.length ?? 0) % 2 === 1 && i < lines.length) chunk += `\n${lines[i++]}`;
      nodes.push(...inline(chunk));
    }
  }
  return printMarkup(normalizeMarkup(nodes));
}

/** Exchange markup → WhatsApp text: styles WhatsApp lacks (underline, spoiler) become plain. */
export function markupToWhatsapp(markup: string): string {
  return print(parseMarkup(markup));
}

function print(nodes: readonly MarkupNode[]): string {
  let out = "";
  for (const n of nodes) {
    switch (n.type) {
      case "text":
        out += n.text;
        break;
      case "code":
        out += n.text.includes("`") ? n.text : `\`${n.text}\``;
        break;
      case "pre":
        out += `\`\`\`${n.text}\`\`\``;
        break;
      case "bold":
      case "italic":
      case "strike": {
        const inner = print(n.children);
        const d = n.type === "bold" ? "*" : n.type === "italic" ? "_" : "~";
        out += inner.trim() === "" ? inner : wrap(inner, d);
        break;
      }
      case "quote":
        out += print(n.children)
          .split("\n")
          .map((l) => `> ${l}`)
          .join("\n");
        break;
      case "link": {
        const text = print(n.children);
        out += text === "" || text === n.url ? n.url : `${text} (${n.url})`;
        break;
      }
      default:
        out += print(n.children);
    }
  }
  return out;
}

/** Delimiters must hug the text: spaces at the edges move outside them. */
function wrap(inner: string, d: string): string {
  const lead = inner.match(/^\s*/)![0];
  const trail = inner.match(/\s*$/)![0];
  return `${lead}${d}${inner.trim()}${d}${trail}`;
}
