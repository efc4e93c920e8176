import type { MarkupNode } from "@openlines/protocol/markup";

/**
 * A small inline parser for delimiter syntaxes: markdown (`**bold**`, `_italic_`, `~~strike~~`,
 * `` `code` ``, `[text](url)`) and Skype's plain-text marks (`*bold*`, `_italic_`, `~strike~`,
 * `{code}x{code}`). Each syntax is a list of rules; the leftmost match wins, earlier rules win ties,
 * and the content of a style is parsed again. A delimiter opens only before a non-space and closes
 * only after one, and `_`/`*` inside a word (snake_case) stay literal. Never throws.
 */
export interface InlineRule {
  /** A regular expression source; group 1 is the content (group 2 the URL for links). */
  re: string;
  make: (m: RegExpExecArray, parse: (s: string) => MarkupNode[]) => MarkupNode;
}

const style =
  (type: "bold" | "italic" | "strike" | "underline") =>
  (m: RegExpExecArray, parse: (s: string) => MarkupNode[]): MarkupNode => ({
    type,
    children: parse(m[1]),
  });

/** A delimited span: opens after start/space/punctuation, content starts and ends with a non-space. */
const span = (open: string, close = open, body = "[\\s\\S]*?") =>
  `(?<![\\p{L}\\p{N}\\\\])${open}(?=\\S)(${body}\\S|\\S)${close}(?![\\p{L}\\p{N}])`;

export const MARKDOWN_RULES: InlineRule[] = [
  { re: "\\\\([\\\\`*_{}\\[\\]()#+\\-.!~>|<])", make: (m) => ({ type: "text", text: m[1] }) },
  { re: "`([^`\\n]+)`", make: (m) => ({ type: "code", text: m[1] }) },
  {
    re: '\\[([^\\]\\n]+)\\]\\(\\s*<?((?:https?:|mailto:|tel:)(?:[^\\s()<>]|\\([^\\s()<>]*\\))+)>?(?:\\s+"[^"]*")?\\s*\\)',
    make: (m, parse) => ({ type: "link", url: m[2], children: parse(m[1]) }),
  },
  {
    re: "<((?:https?:|mailto:)[^\\s>]+)>",
    make: (m) => ({ type: "link", url: m[1], children: [{ type: "text", text: m[1] }] }),
  },
  { re: span("\\*\\*"), make: style("bold") },
  { re: span("__"), make: style("bold") },
  { re: span("~~"), make: style("strike") },
  { re: span("\\*", "\\*", "[^*]*?"), make: style("italic") },
  { re: span("_", "_", "[^_]*?"), make: style("italic") },
];

export const SKYPE_PLAIN_RULES: InlineRule[] = [
  { re: "\\{code\\}([\\s\\S]+?)\\{code\\}", make: (m) => ({ type: "code", text: m[1] }) },
  { re: span("\\*", "\\*", "[^*\\n]*?"), make: style("bold") },
  { re: span("_", "_", "[^_\\n]*?"), make: style("italic") },
  { re: span("~", "~", "[^~\\n]*?"), make: style("strike") },
];

export function inlineParser(rules: InlineRule[]): (input: string) => MarkupNode[] {
  const re = new RegExp(rules.map((r) => `(${r.re})`).join("|"), "gu");
  // Where each rule's groups start in the combined expression.
  const starts: number[] = [];
  let group = 1;
  for (const r of rules) {
    starts.push(group);
    group += 1 + new RegExp(`${r.re}|`, "u").exec("")!.length - 1;
  }
  const parse = (input: string): MarkupNode[] => {
    const out: MarkupNode[] = [];
    const text = (t: string) => {
      if (!t) return;
      const last = out[out.length - 1];
      if (last?.type === "text") last.text += t;
      else out.push({ type: "text", text: t });
    };
    let at = 0;
    for (const m of input.matchAll(re)) {
      if (m.index < at) continue;
      text(input.slice(at, m.index));
      const i = starts.findIndex((s) => m[s] !== undefined);
      const s = starts[i];
      const local = Object.assign([m[s], ...m.slice(s + 1, starts[i + 1] ?? m.length)], {
        index: m.index,
        input,
      }) as unknown as RegExpExecArray;
      const node = rules[i].make(local, parse);
      if (node.type === "text") text(node.text);
      else out.push(node);
      at = m.index + m[0].length;
    }
    text(input.slice(at));
    return out;
  };
  return parse;
}
