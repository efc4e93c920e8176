import type { MarkupNode } from "@openlines/protocol/markup";
import { decodeEntities } from "./entities.js";

/** What one tag of an HTML-like channel markup becomes in the exchange markup. */
export type TagRule =
  | { node: "bold" | "italic" | "underline" | "strike" | "quote" | "spoiler" }
  | { node: "code" | "pre" }
  | { node: "link"; attr: string }
  | { node: "mention"; attr?: string }
  | { node: "block" }
  | { node: "break" }
  | { node: "item" }
  | { node: "drop" }
  /** The tag's text is replaced by what `replace` answers (an emoticon's emoji); undefined keeps it. */
  | { node: "replace"; replace: (attrs: Record<string, string>, text: string) => string | undefined };

export type TagRules = Record<string, TagRule>;

interface Frame {
  tag: string;
  rule?: TagRule;
  attrs: Record<string, string>;
  children: MarkupNode[];
}

const TOKEN =
  /<(\/?)([A-Za-z][A-Za-z0-9_:-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*(\/?)>|<!--[\s\S]*?-->/g;
const ATTR = /([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;

function attrsOf(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(ATTR)) out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? "");
  return out;
}

function pushText(children: MarkupNode[], text: string): void {
  if (!text) return;
  const last = children[children.length - 1];
  if (last?.type === "text") last.text += text;
  else children.push({ type: "text", text });
}

function textOf(nodes: MarkupNode[]): string {
  return nodes.map((n) => ("children" in n ? textOf(n.children) : n.text)).join("");
}

const endsWithNewline = (nodes: MarkupNode[]) => {
  const last = nodes[nodes.length - 1];
  return !last || (last.type === "text" && last.text.endsWith("\n"));
};

/**
 * Reads an HTML-like channel markup (Teams' HTML subset, Skype's XML-like tags) into exchange
 * markup nodes with `rules` per lower-case tag name. Unknown tags keep their content and lose the
 * tag; unbalanced closing tags are ignored; tags left open at the end close there. Never throws.
 */
export function tagsToMarkup(input: string, rules: TagRules): MarkupNode[] {
  const root: Frame = { tag: "", attrs: {}, children: [] };
  const stack: Frame[] = [root];
  const top = () => stack[stack.length - 1];
  const close = (frame: Frame) => {
    const parent = top().children;
    const rule = frame.rule;
    const kids = frame.children;
    switch (rule?.node) {
      case undefined:
        for (const k of kids) k.type === "text" ? pushText(parent, k.text) : parent.push(k);
        return;
      case "drop":
        return;
      case "code":
      case "pre": {
        const text = textOf(kids);
        if (rule.node === "pre") {
          if (!endsWithNewline(parent)) pushText(parent, "\n");
          parent.push({ type: "pre", text: text.replace(/^\n/, "") });
        } else parent.push({ type: "code", text });
        return;
      }
      case "link": {
        const url = frame.attrs[rule.attr];
        if (url) parent.push({ type: "link", url, children: kids });
        else for (const k of kids) k.type === "text" ? pushText(parent, k.text) : parent.push(k);
        return;
      }
      case "mention": {
        const id = rule.attr ? frame.attrs[rule.attr] : undefined;
        parent.push({ type: "mention", id: id || textOf(kids), children: kids });
        return;
      }
      case "replace": {
        const r = rule.replace(frame.attrs, textOf(kids));
        if (r !== undefined) pushText(parent, r);
        else for (const k of kids) k.type === "text" ? pushText(parent, k.text) : parent.push(k);
        return;
      }
      case "block":
      case "item": {
        if (parent.length > 0 && !endsWithNewline(parent)) pushText(parent, "\n");
        if (rule.node === "item") pushText(parent, "• ");
        for (const k of kids) k.type === "text" ? pushText(parent, k.text) : parent.push(k);
        if (!endsWithNewline(parent)) pushText(parent, "\n");
        return;
      }
      case "break":
        return;
      default:
        parent.push({ type: rule!.node, children: kids });
    }
  };
  let at = 0;
  for (const m of input.matchAll(TOKEN)) {
    pushText(top().children, decodeEntities(input.slice(at, m.index)));
    at = m.index + m[0].length;
    if (m[0].startsWith("<!--")) continue;
    const [, slash, rawName, rawAttrs, selfClosing] = m;
    const tag = rawName.toLowerCase();
    const rule = rules[tag];
    if (rule?.node === "break") {
      if (!slash) pushText(top().children, "\n");
      continue;
    }
    if (slash) {
      const i = stack.findLastIndex((f) => f.tag === tag);
      if (i <= 0) continue;
      while (stack.length > i) close(stack.pop()!);
      continue;
    }
    const frame: Frame = { tag, rule, attrs: attrsOf(rawAttrs), children: [] };
    if (selfClosing || tag === "img") {
      stack.push(frame);
      close(stack.pop()!);
    } else stack.push(frame);
  }
  pushText(top().children, decodeEntities(input.slice(at)));
  while (stack.length > 1) close(stack.pop()!);
  return trimTrailingNewlines(root.children);
}

function trimTrailingNewlines(nodes: MarkupNode[]): MarkupNode[] {
  const last = nodes[nodes.length - 1];
  if (last?.type === "text") {
    last.text = last.text.replace(/\n+$/, "");
    if (!last.text) nodes.pop();
  }
  return nodes;
}
