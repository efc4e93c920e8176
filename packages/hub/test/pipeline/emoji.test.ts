import { describe, expect, it } from "vitest";
import { convertEmoji } from "../../src/connectors/emoji/convert.js";
import { buildPacket, inboundPacketId } from "../../src/connectors/pipeline/packets.js";

describe("emoji normalisation", () => {
  const emoticons = { "(smile)": "🙂", ":)": "🙂", "(heart)": "❤️" };

  it("turns shortcodes from the emoji data set into Unicode and leaves unknown ones", () => {
    expect(convertEmoji(":thumbsup: :+1: :tada: :no_such_emoji:")).toBe("👍 👍 🎉 :no_such_emoji:");
  });

  it("turns a channel's emoticons into emoji only where they stand alone", () => {
    expect(convertEmoji("hi (smile), love (heart)!", emoticons)).toBe("hi 🙂, love ❤️!");
    expect(convertEmoji(":) ok :)", emoticons)).toBe("🙂 ok 🙂");
    expect(convertEmoji("see http://x.example/a:)b", emoticons)).toBe("see http://x.example/a:)b");
  });

  it("never touches code or preformatted blocks", () => {
    const text = "a :tada: [code]:tada: (smile)[/code] b [pre]\n:) :tada:\n[/pre] c (smile)";
    expect(convertEmoji(text, emoticons)).toBe(
      "a 🎉 [code]:tada: (smile)[/code] b [pre]\n:) :tada:\n[/pre] c 🙂",
    );
  });
});

describe("inbound packet ids", () => {
  it("are stable for the same platform event and differ by line, type and re-parse", () => {
    const a = inboundPacketId("lc_1", "messages", "42");
    expect(inboundPacketId("lc_1", "messages", "42")).toBe(a);
    expect(inboundPacketId("lc_2", "messages", "42")).not.toBe(a);
    expect(inboundPacketId("lc_1", "typing", "42")).not.toBe(a);
    expect(inboundPacketId("lc_1", "messages", "42", "reparse:1")).not.toBe(a);
    expect(inboundPacketId("lc_1", "messages")).not.toBe(inboundPacketId("lc_1", "messages"));
  });

  it("carry the virtual channel type when the event names one", () => {
    const row = { portal_id: "p", line_id: "l", connector: "botframework" };
    expect(buildPacket(row, { id: "x", type: "typing", data: {}, created: 1 }).connector).toBe(
      "botframework",
    );
    expect(
      buildPacket(row, { id: "x", type: "typing", data: {}, connector: "botframework.skype", created: 1 })
        .connector,
    ).toBe("botframework.skype");
  });
});
