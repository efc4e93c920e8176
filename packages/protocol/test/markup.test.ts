import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  isSafeUrl,
  MAX_MARKUP_DEPTH,
  type MarkupNode,
  markupLength,
  normalizeMarkup,
  parseMarkup,
  printMarkup,
  toHtml,
  toPlainText,
} from "../src/markup.js";

const t = (text: string): MarkupNode => ({ type: "text", text });

describe("exchange markup: parsing", () => {
  it("reads every tag into its node", () => {
    expect(
      parseMarkup(
        "[b]B[/b][i]I[/i][u]U[/u][s]S[/s][code]C[/code][pre lang=ts]P[/pre][pre]Q[/pre]" +
          "[url=https://a.example/x]L[/url][url]https://b.example[/url][mention=u1]Ann[/mention]" +
          "[quote]Q[/quote][spoiler]X[/spoiler]",
      ),
    ).toEqual([
      { type: "bold", children: [t("B")] },
      { type: "italic", children: [t("I")] },
      { type: "underline", children: [t("U")] },
      { type: "strike", children: [t("S")] },
      { type: "code", text: "C" },
      { type: "pre", text: "P", lang: "ts" },
      { type: "pre", text: "Q" },
      { type: "link", url: "https://a.example/x", children: [t("L")] },
      { type: "link", url: "https://b.example", children: [t("https://b.example")] },
      { type: "mention", id: "u1", children: [t("Ann")] },
      { type: "quote", children: [t("Q")] },
      { type: "spoiler", children: [t("X")] },
    ]);
  });

  it("nests tags inside each other", () => {
    expect(parseMarkup("[quote][b]a [i]b[/i][/b]\nc[/quote]")).toEqual([
      {
        type: "quote",
        children: [{ type: "bold", children: [t("a "), { type: "italic", children: [t("b")] }] }, t("\nc")],
      },
    ]);
  });

  it("parses no tags inside code and pre", () => {
    expect(parseMarkup("[pre lang=html][b]x[/b]\n[url=https://a.example]y[/url][/pre]")).toEqual([
      { type: "pre", lang: "html", text: "[b]x[/b]\n[url=https://a.example]y[/url]" },
    ]);
    expect(parseMarkup("[code][i]x[/code]")).toEqual([{ type: "code", text: "[i]x" }]);
  });

  it("leaves unknown, unclosed and unbalanced tags as literal text", () => {
    expect(parseMarkup("[h1]x[/h1]")).toEqual([t("[h1]x[/h1]")]);
    expect(parseMarkup("[b]never closed")).toEqual([t("[b]never closed")]);
    expect(parseMarkup("stray [/i] close")).toEqual([t("stray [/i] close")]);
    expect(parseMarkup("[B]upper[/B]")).toEqual([t("[B]upper[/B]")]);
    expect(parseMarkup("[code]no end")).toEqual([t("[code]no end")]);
    // A closing tag closes only the innermost open tag.
    expect(parseMarkup("[b][i]x[/b][/i]")).toEqual([t("[b]"), { type: "italic", children: [t("x[/b]")] }]);
  });

  it("keeps the content of an unclosed tag parsed", () => {
    expect(parseMarkup("[b]a [i]b[/i]")).toEqual([t("[b]a "), { type: "italic", children: [t("b")] }]);
  });

  it("reads [[ as one literal bracket, everywhere", () => {
    expect(parseMarkup("[[b]not bold[[/b]")).toEqual([t("[b]not bold[/b]")]);
    expect(parseMarkup("[code]a[[/code]b[/code]")).toEqual([{ type: "code", text: "a[/code]b" }]);
    expect(parseMarkup("x[[[[y")).toEqual([t("x[[y")]);
  });

  it("leaves a single bracket that starts no tag as it is", () => {
    expect(parseMarkup("see [1], a[i]b[/i] and [x]")).toEqual([
      t("see [1], a"),
      { type: "italic", children: [t("b")] },
      t(" and [x]"),
    ]);
    expect(parseMarkup("see [1] or [")).toEqual([t("see [1] or [")]);
  });

  it("refuses links to unsafe URLs and keeps them as text", () => {
    for (const url of [
      "javascript:alert(1)",
      "JaVaScRiPt:alert(1)",
      "data:text/html,x",
      "//evil.example",
      "vbscript:x",
    ]) {
      expect(parseMarkup(`[url=${url}]x[/url]`)).toEqual([t(`[url=${url}]x[/url]`)]);
      expect(parseMarkup(`[url]${url}[/url]`)).toEqual([t(`[url]${url}[/url]`)]);
    }
    expect(isSafeUrl("mailto:a@b.example")).toBe(true);
    expect(isSafeUrl("tel:+15551234")).toBe(true);
    expect(isSafeUrl("https://a.example/ x")).toBe(false);
    expect(isSafeUrl("https://")).toBe(false);
  });

  it("keeps astral emoji and other Unicode intact", () => {
    const s = "[b]👩‍👩‍👧‍👦 🇺🇦 𝒳[/b] 你好 e\u0301";
    expect(parseMarkup(s)).toEqual([{ type: "bold", children: [t("👩‍👩‍👧‍👦 🇺🇦 𝒳")] }, t(" 你好 e\u0301")]);
    expect(printMarkup(parseMarkup(s))).toBe(s);
  });

  it("stops opening tags below the maximum depth, without throwing", () => {
    const deep = "[b]".repeat(MAX_MARKUP_DEPTH + 5) + "x" + "[/b]".repeat(MAX_MARKUP_DEPTH + 5);
    const nodes = parseMarkup(deep);
    let depth = 0;
    for (let n: MarkupNode | undefined = nodes[0]; n && n.type === "bold"; n = n.children[0]) depth++;
    expect(depth).toBe(MAX_MARKUP_DEPTH);
    expect(parseMarkup(printMarkup(nodes))).toEqual(nodes);
    expect(() => toHtml("[b]".repeat(100_000))).not.toThrow();
  });

  it("parses a long text full of unclosed verbatim tags in linear time", () => {
    const s = "[code][pre][url]".repeat(20_000);
    expect(parseMarkup(s)).toEqual([t(s)]);
    const urls = `${"[url]".repeat(40_000)}not a url[/url]`;
    expect(parseMarkup(urls)).toEqual([t(urls)]);
    const codes = `${"[code]".repeat(40_000)}[/code]`;
    expect(parseMarkup(codes)).toEqual([{ type: "code", text: "[code]".repeat(39_999) }]);
  });
});

describe("exchange markup: printing", () => {
  const canonical = [
    "",
    "plain text\nwith a line break",
    "[b]bold [i]both[/i][/b] plain",
    "[quote][mention=42]Ann[/mention] wrote: [s]no[/s][/quote]",
    "[pre lang=ts]const a: number[] = [1];\nif (a[[[0]) {}[/pre]",
    "[url=https://example.com/?q=a&b=c]text[/url] and [url]https://example.com[/url]",
    "see [1] and [x] and a[",
    "[[b] is how you write a literal tag",
    "[code]a[[[/code]",
    "[spoiler][u]x[/u][/spoiler] 😀🇺🇦",
  ];
  it.each(canonical)("prints the canonical string %j back unchanged", (s) => {
    expect(printMarkup(parseMarkup(s))).toBe(s);
  });

  it("escapes a literal bracket that would start a tag", () => {
    expect(printMarkup([t("[b]x[/b]")])).toBe("[[b]x[[/b]");
    expect(printMarkup([t("a[[b")])).toBe("a[[[b");
  });

  it("escapes a text's last bracket when a tag follows it", () => {
    const nodes: MarkupNode[] = [t("a["), { type: "bold", children: [t("b[")] }];
    expect(printMarkup(nodes)).toBe("a[[[b]b[[[/b]");
    expect(parseMarkup(printMarkup(nodes))).toEqual(nodes);
  });

  it("escapes a closing tag inside code and pre", () => {
    const nodes: MarkupNode[] = [{ type: "pre", text: "x[/pre]y[" }];
    expect(printMarkup(nodes)).toBe("[pre]x[[/pre]y[[[/pre]");
    expect(parseMarkup(printMarkup(nodes))).toEqual(nodes);
  });

  it("drops links it cannot write safely and keeps their text", () => {
    expect(printMarkup([{ type: "link", url: "javascript:alert(1)", children: [t("click")] }])).toBe("click");
    expect(printMarkup([{ type: "mention", id: "a]b", children: [t("Ann")] }])).toBe("Ann");
  });

  it("normalises adjacent and empty texts", () => {
    expect(normalizeMarkup([t("a"), t(""), t("b"), { type: "bold", children: [t("")] }])).toEqual([
      t("ab"),
      { type: "bold", children: [] },
    ]);
  });
});

describe("exchange markup: plain text and length", () => {
  it("drops styles and shows links and mentions readably", () => {
    expect(
      toPlainText(
        "[b]Hi[/b] [mention=7]Ann[/mention], see [url=https://a.example]docs[/url], [url]https://b.example[/url], [url=mailto:x@a.example]x@a.example[/url]",
      ),
    ).toBe("Hi Ann, see docs (https://a.example), https://b.example, x@a.example");
    expect(toPlainText("[quote]one\ntwo[/quote]\nreply")).toBe("> one\n> two\nreply");
    expect(toPlainText("[pre]a[b][/pre][code]c[/code]")).toBe("a[b]c");
  });

  it("counts visible characters in code points or UTF-16 units", () => {
    expect(markupLength("[b]ab[/b]😀[url=https://a.example]x[/url]")).toBe(4);
    expect(markupLength("[b]ab[/b]😀", "utf16")).toBe(4);
  });
});

describe("exchange markup: HTML", () => {
  it("renders tags as HTML elements", () => {
    expect(toHtml("[b]a[/b][i]b[/i][u]c[/u][s]d[/s][spoiler]e[/spoiler]\n[quote]f[/quote]")).toBe(
      '<strong>a</strong><em>b</em><u>c</u><s>d</s><span class="spoiler">e</span><br><blockquote>f</blockquote>',
    );
    expect(toHtml("[pre lang=ts]a\n<b>[/pre]")).toBe(
      '<pre><code class="language-ts">a\n&lt;b&gt;</code></pre>',
    );
    expect(toHtml("[url=https://a.example/?a=1&b=2]x[/url]")).toBe(
      '<a href="https://a.example/?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">x</a>',
    );
  });

  it("escapes every piece of hostile input", () => {
    const hostile = [
      "<script>alert(1)</script>",
      '[url=https://a.example/"onmouseover="alert(1)]x[/url]',
      "[url=javascript:alert(1)]x[/url]",
      "[url]javascript:alert(1)[/url]",
      '[mention="><img src=x onerror=alert(1)>]x[/mention]',
      '[pre lang="><script>]x[/pre]',
      "[code]</code><script>alert(1)</script>[/code]",
      "<img src=x onerror=alert(1)>",
      "&lt;already&gt; ' \"",
    ];
    for (const h of hostile) {
      const out = toHtml(h);
      expect(out).not.toMatch(/<(script|img)/i);
      expect(out).not.toMatch(/href="(?!https?:|mailto:|tel:)/i);
      expect(out).not.toMatch(/\son\w+="/i);
    }
    expect(toHtml("<b>&</b>")).toBe("&lt;b&gt;&amp;&lt;/b&gt;");
  });

  it("does not emit a link for an unsafe URL given as a tree, nor a link inside a link", () => {
    expect(toHtml([{ type: "link", url: "javascript:alert(1)", children: [t("x")] }])).toBe("x");
    const nested: MarkupNode[] = [
      {
        type: "link",
        url: "https://a.example",
        children: [{ type: "link", url: "https://b.example", children: [t("in")] }],
      },
    ];
    expect(toHtml(nested).match(/<a /g)).toHaveLength(1);
  });
});

// Random trees of every node type. Texts draw from an alphabet rich in brackets and tag fragments
// so the escaping is exercised.
const fragment = fc.constantFrom(
  "[",
  "]",
  "[[",
  "b]",
  "/b]",
  "[b]",
  "[/i]",
  "[/pre]",
  "[/code]",
  "[url=https://x.example]",
  "[url]",
  "[/url]",
  "[mention=1]",
  "pre lang=ts]",
  "a",
  " ",
  "\n",
  "😀",
  "𝒳",
  "é",
  "<script>",
  '"',
  "&",
  "javascript:",
);
const textArb = fc.array(fragment, { maxLength: 8 }).map((a) => a.join(""));
const urlArb = fc.constantFrom(
  "https://example.com",
  "http://a.example/path?q=1&r=2#f",
  "mailto:a@b.example",
  "tel:+4912345",
  "javascript:alert(1)",
);
const { node: nodeArb } = fc.letrec<{ node: MarkupNode; nodes: MarkupNode[] }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    textArb.map((text) => ({ type: "text", text }) as MarkupNode),
    textArb.map((text) => ({ type: "code", text }) as MarkupNode),
    fc
      .tuple(textArb, fc.option(fc.constantFrom("ts", "c++", "c#", "bad lang"), { nil: undefined }))
      .map(
        ([text, lang]) =>
          (lang === undefined ? { type: "pre", text } : { type: "pre", text, lang }) as MarkupNode,
      ),
    fc
      .tuple(
        fc.constantFrom("bold", "italic", "underline", "strike", "quote", "spoiler" as const),
        tie("nodes"),
      )
      .map(([type, children]) => ({ type, children }) as MarkupNode),
    fc.tuple(urlArb, tie("nodes")).map(([url, children]) => ({ type: "link", url, children }) as MarkupNode),
    fc.tuple(urlArb).map(([url]) => ({ type: "link", url, children: [t(url)] }) as MarkupNode),
    fc
      .tuple(fc.constantFrom("1", "U123", "a=b", "bad]id"), tie("nodes"))
      .map(([id, children]) => ({ type: "mention", id, children }) as MarkupNode),
  ),
  nodes: fc.array(tie("node"), { maxLength: 4 }),
}));
const treeArb = fc.array(nodeArb, { maxLength: 5 });

describe("exchange markup: properties", () => {
  it("round-trips any tree through print and parse to its normal form", () => {
    fc.assert(
      fc.property(treeArb, (nodes) => {
        expect(parseMarkup(printMarkup(nodes))).toEqual(normalizeMarkup(nodes));
        expect(toHtml(nodes)).not.toMatch(/<script|href="(?!https?:|mailto:|tel:)/);
      }),
      { numRuns: 2000 },
    );
  });

  it("prints a parsed tree back to a string that is a fixed point", () => {
    fc.assert(
      fc.property(treeArb, (nodes) => {
        const s = printMarkup(nodes);
        expect(printMarkup(parseMarkup(s))).toBe(s);
      }),
      { numRuns: 1000 },
    );
  });

  it("never throws on any string and reprints it to the same tree", () => {
    const anyText = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 60 }),
      fc.array(fragment, { maxLength: 30 }).map((a) => a.join("")),
      fc.string({
        unit: fc.constantFrom("[", "]", "/", "b", "i", "=", "u", "r", "l", "c", "o", "d", "e"),
        maxLength: 40,
      }),
    );
    fc.assert(
      fc.property(anyText, (s) => {
        const nodes = parseMarkup(s);
        expect(parseMarkup(printMarkup(nodes))).toEqual(nodes);
        expect(() => toHtml(nodes)).not.toThrow();
        expect(toHtml(s)).not.toMatch(/<(?!\/?(strong|em|u|s|code|pre|blockquote|span|a|br)[ >])/);
      }),
      { numRuns: 3000 },
    );
  });
});
