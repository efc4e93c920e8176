import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MemorySeenIds, verifySignature } from "@openlines/protocol/signing";
import { answer, listenWithBodies } from "../portal-stub-core.js";
import { benchNow } from "../stats.js";
import { reportFailure, serveParent } from "./child.js";
import { seqOf } from "./telegram.js";

/**
 * Child process entry: a portal stub for whole-system runs. It verifies each delivery's signature
 * like the portal does (BENCH_STUB_SECRET), takes every packet, and records the first arrival
 * time (benchNow: the machine's monotonic clock, comparable across processes) of each message by
 * the `#<seq>` in its text; a packet id seen again counts as a duplicate. Any base path works, so
 * one stub plays several portals (`<url>/portal/<n>`).
 */
const secret = process.env.BENCH_STUB_SECRET ?? "";
const seen = new MemorySeenIds();
let arrivals = new Map<number, number>();
let ids = new Set<string>();
let duplicates = 0;
let requests = 0;
let rejected = 0;
let waiters: { count: number; resolve: () => void }[] = [];

const stats = () => ({ type: "stats", arrived: arrivals.size, duplicates, requests, rejected });

async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer) {
  requests++;
  let packets: { id: string; data?: { message?: { text?: string } } }[];
  try {
    await verifySignature({ secrets: secret, headers: req.headers, rawBody: raw, seen });
    packets = JSON.parse(raw.toString("utf8")).packets;
    if (!Array.isArray(packets)) throw new Error("no packets");
  } catch {
    rejected++;
    return answer(res, 401, '{"error":"refused"}');
  }
  const at = benchNow();
  for (const p of packets) {
    if (ids.has(p.id)) {
      duplicates++;
      continue;
    }
    ids.add(p.id);
    const seq = seqOf(p.data?.message?.text);
    if (seq >= 0 && !arrivals.has(seq)) arrivals.set(seq, at);
  }
  if (waiters.length > 0) {
    const n = arrivals.size;
    const due = waiters.filter((w) => n >= w.count);
    waiters = waiters.filter((w) => n < w.count);
    for (const w of due) w.resolve();
  }
  answer(res, 200, JSON.stringify({ taken: packets.map((p) => p.id) }));
}

async function main() {
  const server = await listenWithBodies(handle);
  serveParent({
    stats,
    reset: () => {
      arrivals = new Map();
      ids = new Set();
      duplicates = requests = rejected = 0;
      return stats();
    },
    /** Arrival times as [seq, ms] pairs. */
    arrivals: () => ({ type: "arrivals", pairs: [...arrivals] }),
    /** Answers once `count` distinct messages arrived, or after `timeoutMs` with what did. */
    wait: (m: { count: number; timeoutMs: number }) =>
      new Promise((resolve) => {
        const done = () => resolve(stats());
        if (arrivals.size >= m.count) return done();
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== finish);
          done();
        }, m.timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          done();
        };
        waiters.push({ count: m.count, resolve: finish });
      }),
  });
  process.once("SIGTERM", () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
  process.send!({ type: "ready", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

main().catch(reportFailure);
