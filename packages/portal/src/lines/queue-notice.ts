/** Median of a list of durations; undefined for an empty list. */
export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : Math.round((s[mid - 1] + s[mid]) / 2);
}

/** "less than a minute", "about 1 minute", "about 7 minutes". */
export function formatWait(ms: number): string {
  const m = Math.ceil(ms / 60_000);
  if (ms < 60_000) return "less than a minute";
  return m === 1 ? "about 1 minute" : `about ${m} minutes`;
}

/** Fills a queue-notice template: {place}, {wait}, {minutes}. Unknown placeholders stay as written. */
export function renderNotice(template: string, place: number, waitMs: number): string {
  const values: Record<string, string> = {
    place: String(place),
    wait: formatWait(waitMs),
    minutes: String(Math.max(1, Math.ceil(waitMs / 60_000))),
  };
  return template.replace(/\{(\w+)\}/g, (all, k: string) => values[k] ?? all);
}
