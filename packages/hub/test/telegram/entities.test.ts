import { describe, expect, it } from "vitest";
import { entitiesToMarkup } from "../../src/connectors/telegram/entities.js";
import { printMarkup } from "../../src/connectors/telegram/markup.js";

const md = (text: string, entities: Parameters<typeof entitiesToMarkup>[1]) =>
  printMarkup(entitiesToMarkup(text, entities));

describe("Telegram entities to exchange markup", () => {
  it("places bold after an emoji at the right UTF-16 offset", () => {
    // "👍" is two UTF-16 code units, so "bold" starts at offset 3, not 2.
    expect(md("👍 bold text", [{ type: "bold", offset: 3, length: 4 }])).toBe("👍 [b]bold[/b] text");
  });

  it("counts astral characters inside and before entities", () => {
    const text = "𝒜 a 👨‍👩‍👧 family 🎉x";
    const start = text.indexOf("👨");
    const family = "👨‍👩‍👧 family";
    expect(md(text, [{ type: "italic", offset: start, length: family.length }])).toBe(
      `𝒜 a [i]${family}[/i] 🎉x`,
    );
    expect(md(text, [{ type: "underline", offset: text.indexOf("🎉"), length: 2 }])).toBe(
      "𝒜 a 👨‍👩‍👧 family [u]🎉[/u]x",
    );
  });

  it("converts every formatting entity type", () => {
    const text = "b i u s sp code pre link url @alice Bob q mail@x.io";
    const at = (s: string) => text.indexOf(s);
    const out = md(text, [
      { type: "bold", offset: at("b "), length: 1 },
      { type: "italic", offset: at("i "), length: 1 },
      { type: "underline", offset: at("u "), length: 1 },
      { type: "strikethrough", offset: at("s "), length: 1 },
      { type: "spoiler", offset: at("sp"), length: 2 },
      { type: "code", offset: at("code"), length: 4 },
      { type: "pre", offset: at("pre"), length: 3, language: "ts" },
      { type: "text_link", offset: at("link"), length: 4, url: "https://example.com/" },
      { type: "url", offset: at("url"), length: 3 },
      { type: "mention", offset: at("@alice"), length: 6 },
      { type: "text_mention", offset: at("Bob"), length: 3, user: { id: 42, first_name: "Bob" } },
      { type: "blockquote", offset: at("q "), length: 1 },
      { type: "email", offset: at("mail@"), length: 9 },
    ]);
    expect(out).toBe(
      "[b]b[/b] [i]i[/i] [u]u[/u] [s]s[/s] [spoiler]sp[/spoiler] [code]code[/code] [pre lang=ts]pre[/pre] " +
        "[url=https://example.com/]link[/url] [url=http://url]url[/url] [url=https://t.me/alice]@alice[/url] " +
        "[mention=42]Bob[/mention] [quote]q[/quote] [url=mailto:mail@x.io]mail@x.io[/url]",
    );
  });

  it("nests entities and cuts one that overlaps its parent's end", () => {
    expect(
      md("bold italic", [
        { type: "bold", offset: 0, length: 11 },
        { type: "italic", offset: 5, length: 6 },
      ]),
    ).toBe("[b]bold [i]italic[/i][/b]");
    expect(
      md("abcdef", [
        { type: "bold", offset: 0, length: 4 },
        { type: "italic", offset: 2, length: 4 },
      ]),
    ).toBe("[b]ab[i]cd[/i][/b][i]ef[/i]");
  });

  it("keeps custom emoji as their fallback emoji and hashtags as text", () => {
    expect(
      md("hi 😀 #tag", [
        { type: "custom_emoji", offset: 3, length: 2, custom_emoji_id: "5368324170671202286" },
        { type: "hashtag", offset: 6, length: 4 },
      ]),
    ).toBe("hi 😀 #tag");
  });

  it("reads a text link to tg://user as a mention", () => {
    expect(md("hi Bob", [{ type: "text_link", offset: 3, length: 3, url: "tg://user?id=42" }])).toBe(
      "hi [mention=42]Bob[/mention]",
    );
  });

  it("escapes text that looks like markup", () => {
    expect(md("[b]not bold[/b]", [])).toBe("[[b]not bold[[/b]");
  });

  it("ignores entities outside the text and nothing inside code", () => {
    expect(
      md("code", [
        { type: "code", offset: 0, length: 4 },
        { type: "bold", offset: 1, length: 2 },
        { type: "bold", offset: 10, length: 3 },
      ]),
    ).toBe("[code]code[/code]");
  });
});
