import { createQueue } from "@openlines/hub/queue/index";
import type { HubDatabase } from "@openlines/hub/store/schema";
import { SecretBox } from "@openlines/hub/store/settings-crypto";
import type { Packet } from "@openlines/protocol/format";
import { type DialectName, openDatabase } from "@openlines/store";
import { benchNow, percentile, round } from "../stats.js";
import type { Child } from "./child.js";
import { type DriveResult, drive, startHub, startLoad, startStubs } from "./cluster.js";
import { loadAverage, type SystemRow } from "./rows.js";
import { type SeededHub, seedHub } from "./seed.js";

export interface BacklogOptions {
  store: DialectName;
  backlog: number;
  /** Webhooks per second to the other portal, during the baseline and the drain. */
  rate: number;
  baselineS: number;
  log: (line: string) => void;
}

const TEXT = "Hello :) my order has not arrived yet, can you check please?";

/** The packet a Telegram update would have become (what the queue held while the portal was down). */
function backlogPacket(seq: number, lineIndex: number, portal: string): Packet {
  const now = Date.now();
  return {
    id: `in_backlog_${seq}`,
    version: 1,
    portal,
    line: `line-${lineIndex}`,
    connector: "telegram",
    created: now,
    type: "messages",
    data: {
      kind: "new",
      chat: { id: String(500_000 + (seq % 50)), type: "private" },
      user: { id: String(500_000 + (seq % 50)), name: "Alex", language: "en" },
      message: { id: String(seq + 1), date: now, text: `#${seq} ${TEXT}`, files: [] },
    },
  } as Packet;
}

/** Stores `count` packets for portal 0's lines through the queue's own enqueue, in chunks. */
async function fillBacklog(seeded: SeededHub, count: number, seqStart: number, log: (l: string) => void) {
  const database = openDatabase<HubDatabase>(seeded.url);
  const queue = createQueue({ database, box: new SecretBox(seeded.key) });
  const lines = seeded.lines.map((l, i) => ({ ...l, index: i })).filter((l) => l.portal === "portal-0");
  try {
    const chunk = 2000;
    for (let k = 0; k < count; k += chunk) {
      const items = [];
      for (let j = k; j < Math.min(count, k + chunk); j++) {
        const line = lines[j % lines.length];
        items.push({ lineConnectorId: line.id, packet: backlogPacket(seqStart + j, line.index, "portal-0") });
      }
      await queue.enqueue(items);
      if ((k / chunk) % 50 === 49) log(`  ${k + chunk} packets stored…`);
    }
  } finally {
    await database.close();
  }
}

function latency(d: DriveResult, seqStart: number, arrivals: Map<number, number>) {
  const l: number[] = [];
  let missing = 0;
  for (let k = 0; k < d.sent.length; k++) {
    const at = arrivals.get(seqStart + k);
    if (d.acked[k] === 0) continue;
    if (at === undefined) missing++;
    else l.push(at - d.sent[k]);
  }
  l.sort((a, b) => a - b);
  return { p50: round(percentile(l, 0.5)), p99: round(percentile(l, 0.99)), missing };
}

/**
 * Scenario `backlog`: portal 0 was down while `backlog` packets for its 10 lines accumulated;
 * portal 1 (its own stub process) keeps getting webhooks at `rate`. First a baseline of portal 1's
 * latency (webhook sent → arrival) with no backlog. Then, with the hub stopped, the backlog is
 * stored through the queue's own enqueue (what the queue holds when the portal comes back and the
 * block ends), the hub starts again and drains it while portal 1's traffic goes on: time to drain,
 * and portal 1's latency meanwhile against its baseline.
 */
export async function runBacklog(o: BacklogOptions): Promise<SystemRow[]> {
  const rows: SystemRow[] = [];
  // Stub 0 plays the portal that was down, stub 1 the other one; each in its own process.
  const stubs = await startStubs(2);
  const [downChild, otherChild] = stubs.children;
  const load = await startLoad();
  const seeded = await seedHub({
    dialect: o.store,
    portals: [`${stubs.urls[0]}/portal/0`, `${stubs.urls[1]}/portal/1`],
    portalSecret: stubs.secret,
    lines: 20,
  });
  const otherLines = seeded.lines.filter((l) => l.portal === "portal-1");
  const arrivalsOf = async (c: Child) =>
    new Map((await c.request<{ pairs: [number, number][] }>({ type: "arrivals" }, "arrivals")).pairs);
  let hub: Awaited<ReturnType<typeof startHub>> | undefined;
  try {
    hub = await startHub(seeded);
    o.log(`backlog: baseline, ${o.rate} webhooks/s to the other portal for ${o.baselineS} s…`);
    const baseLoad = loadAverage();
    const baseCount = Math.round(o.rate * o.baselineS);
    const base = await drive(load, {
      bases: [hub.url],
      targets: otherLines,
      seqStart: 0,
      count: baseCount,
      rate: o.rate,
    });
    await otherChild.request({ type: "wait", count: baseCount, timeoutMs: 30_000 }, "stats");
    const baseLatency = latency(base, 0, await arrivalsOf(otherChild));
    await hub.child.stop();
    hub = undefined;

    o.log(`backlog: storing ${o.backlog} packets for the portal that was down…`);
    const backlogStart = 10_000_000;
    const t0 = benchNow();
    await fillBacklog(seeded, o.backlog, backlogStart, o.log);
    const enqueueS = (benchNow() - t0) / 1000;

    o.log(`backlog: portal back; draining while the other portal gets ${o.rate} webhooks/s…`);
    await otherChild.request({ type: "reset" }, "stats");
    const load_avg_1m = loadAverage();
    const started = benchNow();
    hub = await startHub(seeded);
    const hubUp = benchNow();
    let draining = true;
    const drained = downChild
      .request<{ arrived: number; duplicates: number }>(
        { type: "wait", count: o.backlog, timeoutMs: 30 * 60_000 },
        "stats",
      )
      .finally(() => {
        draining = false;
      });
    // The other portal's traffic, in 5-second rounds, for as long as the drain lasts.
    const rounds: { d: DriveResult; seqStart: number }[] = [];
    let seq = 1_000_000;
    while (draining) {
      const count = Math.round(o.rate * 5);
      rounds.push({
        d: await drive(load, { bases: [hub.url], targets: otherLines, seqStart: seq, count, rate: o.rate }),
        seqStart: seq,
      });
      seq += count;
    }
    const got = await drained;
    let lastDrained = hubUp;
    for (const at of (await arrivalsOf(downChild)).values()) if (at > lastDrained) lastDrained = at;
    const drainS = (lastDrained - hubUp) / 1000;
    const sent = rounds.reduce((a, r) => a + r.d.acked.filter((t) => t > 0).length, 0);
    await otherChild.request({ type: "wait", count: sent, timeoutMs: 60_000 }, "stats");
    const arrivals = await arrivalsOf(otherChild);
    const all: number[] = [];
    let missing = 0;
    for (const r of rounds) {
      const l = latency(r.d, r.seqStart, arrivals);
      missing += l.missing;
      for (let k = 0; k < r.d.sent.length; k++) {
        const at = arrivals.get(r.seqStart + k);
        if (r.d.acked[k] > 0 && at !== undefined) all.push(at - r.d.sent[k]);
      }
    }
    all.sort((a, b) => a - b);
    const row: SystemRow = {
      system: "openlines",
      store: o.store,
      backlog: o.backlog,
      throughput_per_s: Math.round(o.backlog / drainS),
      p50_ms: round(percentile(all, 0.5)),
      p99_ms: round(percentile(all, 0.99)),
      baseline_p50_ms: baseLatency.p50,
      baseline_p99_ms: baseLatency.p99,
      drain_s: round(drainS),
      hub_start_s: round((hubUp - started) / 1000),
      enqueue_s: round(enqueueS),
      lost: o.backlog - got.arrived + missing,
      duplicates: got.duplicates,
      other_portal_messages: sent,
      load_avg_1m,
      baseline_load_avg_1m: baseLoad,
      settings: `backlog for 10 lines of one portal, other portal ${o.rate} webhooks/s on 10 lines`,
    };
    rows.push(row);
    o.log(
      `  → drained ${o.backlog} in ${row.drain_s} s; other portal p99 ${row.p99_ms} ms (baseline ${row.baseline_p99_ms})`,
    );
  } finally {
    await hub?.child.stop();
    await load.stop();
    await stubs.stop();
    await seeded.drop();
  }
  return rows;
}
