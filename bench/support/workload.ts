import type { Packet } from "@openlines/protocol/format";

/**
 * The benchmark's workload: `messages` packets spread round-robin over `portals × linesPerPortal`
 * lines (100 × 10 by default), each line with a few chats, as webhooks from 1,000 busy lines
 * would arrive. Message i goes to line i mod lines; its packet id is `<tag>-<i>`, which is what
 * the portal stub records.
 */
export interface Workload {
  tag: string;
  messages: number;
  portals: number;
  linesPerPortal: number;
  /** Portals in outage: the first `downPortals` portal indexes. */
  downPortals: number;
}

export const lineCount = (w: Workload) => w.portals * w.linesPerPortal;
export const lineOf = (w: Workload, i: number) => i % lineCount(w);
export const portalOfLine = (w: Workload, line: number) => Math.floor(line / w.linesPerPortal);
export const isDown = (w: Workload, i: number) => portalOfLine(w, lineOf(w, i)) < w.downPortals;
export const portalId = (p: number) => `portal-${p}`;
/** `portal-<n>` → n. */
export const portalIndex = (id: string) => Number(id.slice(id.lastIndexOf("-") + 1));
export const lineId = (line: number) => `line-${line}`;

/** How many messages go to healthy portals: those the run waits for. */
export function healthyCount(w: Workload): number {
  let n = 0;
  for (let i = 0; i < w.messages; i++) if (!isDown(w, i)) n++;
  return n;
}

const TEXT = "Hello! I ordered the blue one last week and it has not arrived yet. Can you check, please?";

/** The packet a channel webhook for message i would produce (about 450 bytes of JSON). */
export function packetFor(w: Workload, i: number): Packet {
  const line = lineOf(w, i);
  const chat = `chat-${line}-${i % 7}`;
  const now = Date.now();
  return {
    id: `${w.tag}-${i}`,
    version: 1,
    portal: portalId(portalOfLine(w, line)),
    line: lineId(line),
    connector: "telegram",
    created: now,
    type: "messages",
    data: {
      kind: "new",
      chat: { id: chat, type: "private" },
      user: { id: `user-${line}-${i % 7}`, name: "Alex Customer", language: "en" },
      message: { id: String(i), date: now, text: TEXT, files: [] },
    },
  };
}
