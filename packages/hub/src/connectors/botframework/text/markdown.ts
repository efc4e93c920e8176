import type { MarkupNode } from "@openlines/protocol/markup";
import { inlineParser, MARKDOWN_RULES } from "./inline.js";

const inline = inlineParser(MARKDOWN_RULES);

/**
 * Bot Framework markdown (textFormat `markdown`) to exchange markup nodes: fenced code blocks,
 * `>` quotes, then the inline marks. Lists, headings and tables stay as their text.
 */
export function markdownToMarkup(input: string): MarkupNode[] {
  const out: MarkupNode[] = [];
  const lines = input.replace(/\r\n?/g, "\n").split("\n");
  let para: string[] = [];
  let quote: string[] = [];
  const push = (nodes: MarkupNode[]) => {
    for (const n of nodes) {
      const last = out[out.length - 1];
      if (n.type === "text" && last?.type === "text") last.text += n.text;
      else out.push(n);
    }
  };
  const sep = () => {
    if (out.length > 0) push([{ type: "text", text: "\n" }]);
  };
  const flushPara = () => {
    if (para.length) {
      sep();
      push(inline(para.join("\n")));
    }
    para = [];
  };
  const flushQuote = () => {
    if (quote.length) {
      sep();
      out.push({ type: "quote", children: markdownToMarkup(quote.join("\n")) });
    }
    quote = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s{0,3}(```+|~~~+)\s*([A-Za-z0-9_+#.-]*)\s*$/.exec(line);
    if (fence) {
      const end = lines.findIndex((l, j) => j > i && l.trim().startsWith(fence[1]));
      if (end > i) {
        flushPara();
        flushQuote();
        sep();
        const text = lines.slice(i + 1, end).join("\n");
        out.push(fence[2] ? { type: "pre", text, lang: fence[2] } : { type: "pre", text });
        i = end;
        continue;
      }
    }
    const q = /^\s{0,3}> ?(.*)$/.exec(line);
    if (q) {
      flushPara();
      quote.push(q[1]);
      continue;
    }
    flushQuote();
    para.push(line);
  }
  flushPara();
  flushQuote();
  return out;
}

const escapeMd = (s: string) =>
  s.replace(/([\\`*_~[\]<>])/g, "\\$1").replace(/^(\s*)([#>+-]|\d+\.)(?=\s)/gm, "$1\\$2");

/**
 * Exchange markup nodes to markdown as Bot Framework channels render it. Underline and spoiler
 * have no markdown and keep their text; a mention becomes its name (Teams has its own renderer).
 */
export function markupToMarkdown(nodes: readonly MarkupNode[]): string {
  let out = "";
  let block = false;
  for (const n of nodes) {
    // A quote or code block ends its own line; the text after it need not break it again.
    const afterBlock = block;
    block = n.type === "quote" || n.type === "pre";
    switch (n.type) {
      case "text":
        out += escapeMd(afterBlock ? n.text.replace(/^\n/, "") : n.text);
        break;
      case "code":
        out += n.text.includes("`") ? `\`\` ${n.text} \`\`` : `\`${n.text}\``;
        break;
      case "pre":
        out += `${out && !out.endsWith("\n") ? "\n" : ""}\`\`\`${n.lang ?? ""}\n${n.text}\n\`\`\`\n`;
        break;
      case "bold":
        out += wrap("**", markupToMarkdown(n.children));
        break;
      case "italic":
        out += wrap("_", markupToMarkdown(n.children));
        break;
      case "strike":
        out += wrap("~~", markupToMarkdown(n.children));
        break;
      case "link": {
        const text = markupToMarkdown(n.children);
        out += text === escapeMd(n.url) ? `<${n.url}>` : `[${text}](${linkTarget(n.url)})`;
        break;
      }
      case "quote":
        out += `${out && !out.endsWith("\n") ? "\n" : ""}${markupToMarkdown(n.children)
          .split("\n")
          .map((l) => `> ${l}`)
          .join("\n")}\n`;
        break;
      default:
        out += markupToMarkdown(n.children);
    }
  }
  return out.replace(/\n$/, "");
}

/** A link target markdown reads back: one level of balanced parentheses stays, others are encoded. */
function linkTarget(url: string): string {
  return /^(?:[^()]|\([^()]*\))*$/.test(url) ? url : url.replace(/\(/g, "%28").replace(/\)/g, "%29");
}

/** Wraps text in a mark, keeping surrounding spaces outside (`** x**` would not render). */
function wrap(mark: string, text: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(text)!;
  return m[2] ? `${m[1]}${mark}${m[2]}${mark}${m[3]}` : text;
}
