import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeHtml, markupToHtmlParts } from "../../src/connectors/telegram/html.js";
import { type MarkupNode, parseMarkup } from "../../src/connectors/telegram/markup.js";
import { parseTelegramHtml } from "./fake-bot-api.js";

const html = (markup: string, o?: Parameters<typeof markupToHtmlParts>[1]) =>
  markupToHtmlParts(parseMarkup(markup), o);

describe("exchange markup to Telegram HTML", () => {
  it("escapes <, > and & in user text", () => {
    expect(html("a < b && c > d <script>")).toEqual(["a &lt; b &amp;&amp; c &gt; d &lt;script&gt;"]);
    expect(escapeHtml("&lt;")).toBe("&amp;lt;");
  });

  it("renders every supported format with Telegram's tags", () => {
    const [out] = html(
      "[b]b[/b][i]i[/i][u]u[/u][s]s[/s][spoiler]sp[/spoiler][code]x<y[/code][pre lang=ts]let a = 1 & 2;[/pre]" +
        '[url=https://example.com/?a=1&b="2"]link[/url][mention=42]Bob[/mention][quote]q[/quote][pre]plain[/pre]',
    );
    expect(out).toBe(
      "<b>b</b><i>i</i><u>u</u><s>s</s><tg-spoiler>sp</tg-spoiler><code>x&lt;y</code>" +
        '<pre><code class="language-ts">let a = 1 &amp; 2;</code></pre>' +
        '<a href="https://example.com/?a=1&amp;b=&quot;2&quot;">link</a><a href="tg://user?id=42">Bob</a>' +
        "<blockquote>q</blockquote><pre>plain</pre>",
    );
    expect(() => parseTelegramHtml(out)).not.toThrow();
  });

  it("nests formats as written", () => {
    expect(html("[b]bold [i]both[/i][/b] 👍")).toEqual(["<b>bold <i>both</i></b> 👍"]);
  });

  it("keeps short text in one part", () => {
    expect(html("x".repeat(4096))).toHaveLength(1);
  });

  it("splits long text at line breaks into parts of at most 4096 visible characters", () => {
    const para = `${"word ".repeat(150).trim()}\n`;
    const parts = html(para.repeat(20));
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) {
      const visible = parseTelegramHtml(p);
      expect(visible.length).toBeLessThanOrEqual(4096);
      expect(visible.endsWith("\n") || p === parts[parts.length - 1]).toBe(true);
    }
    expect(parts.map(parseTelegramHtml).join("")).toBe(para.repeat(20));
  });

  it("closes and reopens formatting across parts so every part is valid HTML", () => {
    const body = "a & b <c> ".repeat(900);
    const markup = `[quote][b]${body}[url=https://example.com/]${body}[/url][/b][/quote][pre lang=js]${"x<1;\n".repeat(1000)}[/pre]`;
    const parts = html(markup);
    expect(parts.length).toBeGreaterThanOrEqual(4);
    for (const p of parts) {
      expect(() => parseTelegramHtml(p)).not.toThrow();
      expect(parseTelegramHtml(p).length).toBeLessThanOrEqual(4096);
    }
    expect(parts[1].startsWith("<blockquote><b>")).toBe(true);
    expect(parts.some((p) => p.startsWith('<blockquote><b><a href="https://example.com/">'))).toBe(true);
    expect(parts[parts.length - 1].startsWith('<pre><code class="language-js">')).toBe(true);
    expect(parts.map(parseTelegramHtml).join("")).toBe(`${body}${body}${"x<1;\n".repeat(1000)}`);
  });

  it("never cuts an emoji in half when there is no space to cut at", () => {
    const parts = html(`a${"😀".repeat(3000)}`);
    for (const p of parts) expect(p).not.toMatch(/[\ud800-\udbff]$|^[\udc00-\udfff]/);
    expect(parts.join("")).toBe(`a${"😀".repeat(3000)}`);
  });

  it("gives a caption its own limit of 1024", () => {
    const parts = html("y ".repeat(1500), { firstLimit: 1024, limit: 4096 });
    expect(parseTelegramHtml(parts[0]).length).toBeLessThanOrEqual(1024);
    expect(parts).toHaveLength(2);
  });

  it("drops links Telegram would refuse and nested blockquotes", () => {
    expect(html("[quote]a [quote]b[/quote][/quote]")).toEqual(["<blockquote>a b</blockquote>"]);
    expect(html("[mention=abc]Name[/mention]")).toEqual(["Name"]);
  });
});

const leaves = (nodes: MarkupNode[]): string =>
  nodes.map((n) => ("children" in n ? leaves(n.children) : n.text)).join("");

describe("splitting any markup", () => {
  const text = fc.string({
    unit: fc.constantFrom("a", " ", "\n", "<", "&", ">", "😀", "é", "[", "]"),
    maxLength: 40,
  });
  const tree: fc.Arbitrary<MarkupNode[]> = fc.letrec<{ nodes: MarkupNode[]; node: MarkupNode }>((tie) => ({
    nodes: fc.array(tie("node"), { maxLength: 4 }),
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      text.map((t) => ({ type: "text" as const, text: t })),
      text.map((t) => ({ type: "code" as const, text: t })),
      fc.record({ type: fc.constant("pre" as const), text, lang: fc.constantFrom(undefined, "ts") }),
      fc.record({
        type: fc.constantFrom("bold", "italic", "underline", "strike", "spoiler", "quote" as const),
        children: tie("nodes"),
      }),
      fc.record({
        type: fc.constant("link" as const),
        url: fc.constant("https://x.example/?a=1&b=2"),
        children: tie("nodes"),
      }),
      fc.record({ type: fc.constant("mention" as const), id: fc.constant("42"), children: tie("nodes") }),
    ) as fc.Arbitrary<MarkupNode>,
  })).nodes;

  it("gives parts that are each valid HTML within the limits and together keep every character", () => {
    fc.assert(
      fc.property(tree, fc.integer({ min: 4, max: 30 }), (nodes, limit) => {
        const parts = markupToHtmlParts(nodes, { firstLimit: limit, limit: limit * 2 });
        const visible = parts.map((p) => parseTelegramHtml(p));
        for (const [i, v] of visible.entries())
          expect(v.length).toBeLessThanOrEqual(i === 0 ? limit : limit * 2);
        // whitespace-only parts are dropped; nothing else is lost or changed
        expect(visible.join("").replace(/\s/g, "")).toBe(leaves(nodes).replace(/\s/g, ""));
      }),
      { numRuns: 300 },
    );
  });
});
