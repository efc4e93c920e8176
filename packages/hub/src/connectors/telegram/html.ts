import type { MarkupNode } from "./markup.js";

/** Telegram's limits on visible text (after entity parsing), in UTF-16 code units. */
export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;

interface Tag {
  open: string;
  close: string;
}
/** A stretch of text with the tags around it, outermost first; runs of one element share Tag objects. */
interface Run {
  text: string;
  tags: Tag[];
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}
const escapeAttr = (s: string) => escapeHtml(s).replaceAll('"', "&quot;");

const simple: Record<string, Tag> = {
  bold: { open: "<b>", close: "</b>" },
  italic: { open: "<i>", close: "</i>" },
  underline: { open: "<u>", close: "</u>" },
  strike: { open: "<s>", close: "</s>" },
  spoiler: { open: "<tg-spoiler>", close: "</tg-spoiler>" },
  quote: { open: "<blockquote>", close: "</blockquote>" },
};
const linkSchemes = /^(https?|tg|mailto|tel|ftp):/i;

function flatten(nodes: MarkupNode[], tags: Tag[], out: Run[]): void {
  const tagged = (tag: Tag | undefined, children: MarkupNode[]) =>
    flatten(children, tag ? [...tags, tag] : tags, out);
  for (const n of nodes) {
    switch (n.type) {
      case "text":
        out.push({ text: n.text, tags });
        break;
      case "code":
        out.push({ text: n.text, tags: [...tags, { open: "<code>", close: "</code>" }] });
        break;
      case "pre": {
        const lang = n.lang?.replace(/[^\w+#.-]/g, "");
        const tag = lang
          ? { open: `<pre><code class="language-${lang}">`, close: "</code></pre>" }
          : { open: "<pre>", close: "</pre>" };
        out.push({ text: n.text, tags: [...tags, tag] });
        break;
      }
      case "link":
        tagged(
          linkSchemes.test(n.url) && !tags.some((t) => t.close === "</a>")
            ? { open: `<a href="${escapeAttr(n.url)}">`, close: "</a>" }
            : undefined,
          n.children,
        );
        break;
      case "mention":
        tagged(
          /^\d+$/.test(n.id) && !tags.some((t) => t.close === "</a>")
            ? { open: `<a href="tg://user?id=${n.id}">`, close: "</a>" }
            : undefined,
          n.children,
        );
        break;
      case "quote":
        // Telegram refuses nested blockquotes: an inner quote adds nothing.
        tagged(tags.some((t) => t.open === "<blockquote>") ? undefined : { ...simple.quote }, n.children);
        break;
      default:
        tagged({ ...simple[n.type] }, n.children);
    }
  }
}

/**
 * Where to cut a text so that no part is longer than its limit: after a blank line, a line
 * break or a space in the second half of the window, else at the limit (never inside a
 * surrogate pair).
 */
export function chooseCuts(plain: string, firstLimit: number, limit: number): number[] {
  const cuts: number[] = [];
  let start = 0;
  let lim = firstLimit;
  while (plain.length - start > lim) {
    const window = plain.slice(start, start + lim);
    let cut = -1;
    for (const sep of ["\n\n", "\n", " "]) {
      const at = window.lastIndexOf(sep);
      if (at >= lim / 2) {
        cut = start + at + sep.length;
        break;
      }
    }
    if (cut < 0) {
      cut = start + lim;
      const code = plain.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
    }
    cuts.push(cut);
    start = cut;
    lim = limit;
  }
  return cuts;
}

/**
 * Renders exchange markup as Telegram HTML (`parse_mode: "HTML"`), split into parts whose visible
 * text fits the limits: the first part may have its own limit (a caption), the rest `limit`. A
 * cut inside formatted text closes the open tags at the end of one part and reopens them at the
 * start of the next, so every part is valid HTML on its own. Whitespace-only parts are dropped,
 * except that the first part is always returned (possibly empty: a media without caption).
 */
export function markupToHtmlParts(
  nodes: MarkupNode[],
  o: { firstLimit?: number; limit?: number } = {},
): string[] {
  const limit = o.limit ?? TEXT_LIMIT;
  const runs: Run[] = [];
  flatten(nodes, [], runs);
  const plain = runs.map((r) => r.text).join("");
  const bounds = [0, ...chooseCuts(plain, o.firstLimit ?? limit, limit), plain.length];
  const parts: string[] = [];
  for (let p = 0; p + 1 < bounds.length; p++) {
    const html = renderRange(runs, bounds[p], bounds[p + 1]);
    if (p === 0 || plain.slice(bounds[p], bounds[p + 1]).trim() !== "") parts.push(html);
  }
  return parts;
}

function renderRange(runs: Run[], from: number, to: number): string {
  let html = "";
  let open: Tag[] = [];
  let at = 0;
  for (const run of runs) {
    const start = Math.max(from, at);
    const end = Math.min(to, at + run.text.length);
    if (end > start) {
      let common = 0;
      while (common < open.length && common < run.tags.length && open[common] === run.tags[common]) common++;
      for (let i = open.length - 1; i >= common; i--) html += open[i].close;
      for (let i = common; i < run.tags.length; i++) html += run.tags[i].open;
      open = run.tags;
      html += escapeHtml(run.text.slice(start - at, end - at));
    }
    at += run.text.length;
    if (at >= to) break;
  }
  for (let i = open.length - 1; i >= 0; i--) html += open[i].close;
  return html;
}

/** Visible text of markup, as Telegram counts it for limits. */
export function visibleLength(nodes: MarkupNode[]): number {
  const runs: Run[] = [];
  flatten(nodes, [], runs);
  return runs.reduce((n, r) => n + r.text.length, 0);
}
