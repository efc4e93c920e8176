import { readFileSync } from "node:fs";

/**
 * Loads a connector's emoticon data file (JSON object `{"(smile)": "🙂"}`) next to its module:
 * `emoticons: loadEmoticons(new URL("./emoticons.json", import.meta.url))`.
 */
export function loadEmoticons(file: URL | string): Record<string, string> {
  const data = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (!data || typeof data !== "object" || Array.isArray(data))
    throw new Error(`Emoticon file ${String(file)} must hold one JSON object of code → emoji.`);
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== "string" || !k)
      throw new Error(`Emoticon file ${String(file)}: "${k}" must map to a string.`);
  }
  return data as Record<string, string>;
}
