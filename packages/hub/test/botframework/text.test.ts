import { type MarkupNode, parseMarkup, printMarkup } from "@openlines/protocol/markup";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BOT_CHANNELS, GENERIC_CHANNEL } from "../../src/connectors/botframework/channels.js";
import { markdownToMarkup, markupToMarkdown } from "../../src/connectors/botframework/text/markdown.js";
import {
  markupToSkypeXml,
  skypePlainToMarkup,
  skypeXmlToMarkup,
} from "../../src/connectors/botframework/text/skype.js";
import { markupToTeamsHtml, teamsHtmlToMarkup } from "../../src/connectors/botframework/text/teams.js";

const md = (s: string) => printMarkup(markdownToMarkup(s));
const roundTrip = (markup: string) => printMarkup(markdownToMarkup(markupToMarkdown(parseMarkup(markup))));

describe("Bot Framework markdown", () => {
  it("reads bold, italic, strike, code, links, autolinks and escapes", () => {
    expect(md("**b** __b2__ *i* _i2_ ~~s~~ `c*d` [t](https://e.example/a_b) <https://e.example>")).toBe(
      "[b]b[/b] [b]b2[/b] [i]i[/i] [i]i2[/i] [s]s[/s] [code]c*d[/code] [url=https://e.example/a_b]t[/url] [url]https://e.example[/url]",
    );
    expect(md("2 * 3 * 4 and snake_case_name and \\*not\\*")).toBe("2 * 3 * 4 and snake_case_name and *not*");
    expect(md("[x](javascript:alert(1))")).toBe("[x](javascript:alert(1))");
  });

  it("reads fenced code blocks and quotes", () => {
    expect(md("Look:\n```js\nconst a = **1**;\n```\n> quoted *text*\n> more\nafter")).toBe(
      "Look:\n[pre lang=js]const a = **1**;[/pre]\n[quote]quoted [i]text[/i]\nmore[/quote]\nafter",
    );
  });

  it("writes markup that reads back the same", () => {
    for (const m of [
      "[b]Ticket #42[/b] is [i]late[/i] [s]old[/s] [code]a_b[/code]",
      "[url=https://e.example/x_(y)]the site[/url] and [url]https://e.example[/url]",
      "[url=https://e.example/a%29b]odd[/url]",
      "2 * 3 _ 4 ~ [[1] `x` <b>",
      "line one\n[quote]a quote\nline two[/quote]\nend",
      "[pre lang=ts]const x = 1;\n**not bold**[/pre]",
    ])
      expect(roundTrip(m)).toBe(printMarkup(parseMarkup(m)));
  });

  it("never throws and keeps the visible text of any markup", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const back = markdownToMarkup(markupToMarkdown(parseMarkup(s)));
        expect(Array.isArray(back)).toBe(true);
        expect(() => markdownToMarkup(s)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe("Skype text", () => {
  it("reads Skype's plain marks without touching words or code", () => {
    expect(printMarkup(skypePlainToMarkup("*bold* _it_ ~gone~ {code}*x*{code} a*b*c file_name_here"))).toBe(
      "[b]bold[/b] [i]it[/i] [s]gone[/s] [code]*x*[/code] a*b*c file_name_here",
    );
  });

  it("reads Skype's xml: quotes without their legacy copy, edit marks dropped, unknown emoticons kept as typed", () => {
    const nodes = skypeXmlToMarkup(
      '<quote author="bob" timestamp="1"><legacyquote>[12:00] bob: </legacyquote>the original<legacyquote>\n\n&lt;&lt;&lt; </legacyquote></quote>my answer<e_m ts="1" a="bob" t="61"></e_m> <ss type="nosuchthing">(nosuchthing)</ss>',
      { "(smile)": "🙂" },
    );
    expect(printMarkup(nodes)).toBe("[quote]the original[/quote]my answer (nosuchthing)");
  });

  it("writes Skype xml with escaping", () => {
    expect(
      markupToSkypeXml(parseMarkup('[b]a < b[/b] & [url=https://e.example/?q="x"]go[/url] [code]x<y[/code]')),
    ).toBe('<b>a &lt; b</b> &amp; <a href="https://e.example/?q=&quot;x&quot;">go</a> <pre>x&lt;y</pre>');
  });
});

describe("Teams HTML", () => {
  it("reads paragraphs, lists, line breaks, entities and emoji; drops scripts and styles", () => {
    const nodes = teamsHtmlToMarkup(
      "<div><p>One&nbsp;<em>two</em><br>three</p><ol><li>a</li><li>b</li></ol><script>x()</script><p>&lt;tag&gt; &#x1F600;</p></div>",
    );
    expect(printMarkup(nodes)).toBe("One\u00a0[i]two[/i]\nthree\n• a\n• b\n<tag> 😀");
  });

  it("never throws on broken HTML", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        expect(() => teamsHtmlToMarkup(`<b>${s}<i>${s}</b>`)).not.toThrow();
      }),
      { numRuns: 300 },
    );
    expect(printMarkup(teamsHtmlToMarkup("<b>open <i>both</b> closed</i> tail"))).toBe(
      "[b]open [i]both[/i][/b] closed tail",
    );
  });

  it("writes Teams HTML with mentions as <at> and their entities", () => {
    const { html, mentions } = markupToTeamsHtml(
      parseMarkup("Hi [mention=29:1a]Alice <A>[/mention]\n[quote]q[/quote]"),
    );
    expect(html).toBe("Hi <at>Alice &lt;A&gt;</at><br><blockquote>q</blockquote>");
    expect(mentions).toEqual([
      { type: "mention", mentioned: { id: "29:1a", name: "Alice <A>" }, text: "<at>Alice &lt;A&gt;</at>" },
    ]);
  });
});

describe("virtual channel table", () => {
  it("declares every channel listed in the issue and a generic fallback, each with emoticon data", () => {
    expect(Object.keys(BOT_CHANNELS).sort()).toEqual(
      ["directline", "email", "facebook", "msteams", "skype", "slack", "sms", "telegram", "webchat"].sort(),
    );
    for (const c of [...Object.values(BOT_CHANNELS), GENERIC_CHANNEL]) {
      expect(Object.keys(c.emoticons).length, c.type).toBeGreaterThan(0);
      const written = c.write(parseMarkup("[b]x[/b] y") as MarkupNode[]);
      expect(written.text.length, c.type).toBeGreaterThan(0);
    }
  });
});
