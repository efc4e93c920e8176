import { shortcodeTable } from "./shortcodes.js";

const codeBlock = /\[(code|pre)\][\s\S]*?\[\/\1\]/gi;
const shortcode = /:([a-z0-9_+-]{1,64}):/gi;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const emoticonPatterns = new WeakMap<Record<string, string>, RegExp | null>();

function emoticonPattern(map: Record<string, string>): RegExp | null {
  let re = emoticonPatterns.get(map);
  if (re !== undefined) return re;
  const keys = Object.keys(map).sort((a, b) => b.length - a.length);
  // An emoticon stands alone: whitespace or the text's edge on both sides (":)" inside a URL stays).
  re = keys.length
    ? new RegExp(`(?<=^|\\s)(?:${keys.map(escapeRegExp).join("|")})(?=$|\\s|[.,!?])`, "g")
    : null;
  emoticonPatterns.set(map, re);
  return re;
}

function convertPlain(text: string, emoticons: Record<string, string> | undefined): string {
  const table = shortcodeTable();
  let out = text.replace(shortcode, (m, name: string) => table.get(name.toLowerCase()) ?? m);
  const re = emoticons && emoticonPattern(emoticons);
  if (re && emoticons) out = out.replace(re, (m) => emoticons[m] ?? m);
  return out;
}

/**
 * Channel emoticons (`(smile)`, from the connector's data file) and `:shortcodes:` to Unicode emoji,
 * leaving `[code]` and `[pre]` blocks untouched.
 */
export function convertEmoji(text: string, emoticons?: Record<string, string>): string {
  if (!text) return text;
  let out = "";
  let last = 0;
  for (const m of text.matchAll(codeBlock)) {
    out += convertPlain(text.slice(last, m.index), emoticons) + m[0];
    last = m.index + m[0].length;
  }
  return out + convertPlain(text.slice(last), emoticons);
}
