import { describe, expect, it } from "vitest";
import { escapeHtml, markupToHtmlParts } from "../../src/connectors/telegram/html.js";
import { parseMarkup } from "../../src/connectors/telegram/markup.js";
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
