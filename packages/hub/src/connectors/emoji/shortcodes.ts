import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

let table: Map<string, string> | undefined;

/**
 * `:shortcode:` → Unicode emoji from the maintained emojibase-data set (English): the emojibase
 * and GitHub shortcode presets, GitHub's names winning on conflict (they are what people type).
 * Loaded once, on first use.
 */
export function shortcodeTable(): Map<string, string> {
  if (table) return table;
  const compact: {
    hexcode: string;
    skins?: { hexcode: string }[];
  }[] = require("emojibase-data/en/compact.json");
  // The text is built from the hexcode (the fully-qualified sequence): the data's `unicode` field
  // adds U+FE0F even to emoji that are pictures by default.
  const fromHex = (hex: string) => String.fromCodePoint(...hex.split("-").map((h) => Number.parseInt(h, 16)));
  const byHex = new Map<string, string>();
  for (const e of compact) {
    byHex.set(e.hexcode, fromHex(e.hexcode));
    for (const s of e.skins ?? []) byHex.set(s.hexcode, fromHex(s.hexcode));
  }
  const t = new Map<string, string>();
  for (const preset of ["emojibase", "github"]) {
    const codes: Record<string, string | string[]> = require(`emojibase-data/en/shortcodes/${preset}.json`);
    for (const [hex, names] of Object.entries(codes)) {
      const unicode = byHex.get(hex);
      if (!unicode) continue;
      for (const name of Array.isArray(names) ? names : [names]) t.set(name, unicode);
    }
  }
  table = t;
  return t;
}
