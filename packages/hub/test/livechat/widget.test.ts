import { readFileSync } from "node:fs";
import { Script } from "node:vm";
import { describe, expect, it } from "vitest";

const source = readFileSync(
  new URL("../../src/connectors/livechat/widget/widget.js", import.meta.url),
  "utf8",
);

describe("the widget script", () => {
  it("is one self-contained classic script: it compiles and loads nothing else", () => {
    expect(() => new Script(source)).not.toThrow();
    expect(source).not.toMatch(/\bimport\b\s*[({"']/);
    expect(source).not.toMatch(/\brequire\(/);
    expect(source).not.toMatch(/https?:\/\/(?!hub\.example\.com)[\w.-]+\//);
  });

  it("announces new messages, labels its input and uses buttons for every action", () => {
    expect(source).toContain('aria-live="polite"');
    expect(source).toMatch(/<label class="sr" for="olc-text">/);
    expect(source).toContain('aria-label="Close chat"');
    expect(source).toContain('aria-label="Attach a file"');
    expect(source).toContain('aria-expanded="false"');
    expect(source).not.toMatch(/<div[^>]*onclick/);
  });

  it("keeps the visitor's identity in localStorage and reconnects with the last seq", () => {
    expect(source).toContain("localStorage.setItem(storeKey");
    expect(source).toMatch(/after: String\(lastSeq\)/);
  });
});
