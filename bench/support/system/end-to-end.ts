import type { DialectName } from "@openlines/store";
import { createTestDatabase } from "@openlines/store/testing";
import WebSocket from "ws";
import { benchNow, percentile, round } from "../stats.js";
import { startChild } from "./child.js";
import { drive, hubNodeArgs, startLoad } from "./cluster.js";
import { loadAverage, type SystemRow } from "./rows.js";
import { seqOf } from "./telegram.js";

export interface EndToEndOptions {
  stores: DialectName[];
  /** The maximum rate of the store (0: measure it first); the run goes at half of it. */
  rate: (store: DialectName) => number;
  /** Messages of the maximum-rate measurement. */
  maxMessages: number;
  seconds: number;
  log: (line: string) => void;
}

/**
 * Scenario `end-to-end`: the all-in-one server (its own process) takes Telegram webhooks at a
 * steady rate from the load generator (another process) while an operator's workspace stream
 * (`/api/stream`, a WebSocket opened here with an API token) listens. Per message: webhook sent →
 * the portal's commit, and webhook sent → the WebSocket event that shows it to the operator.
 */
export async function runEndToEnd(o: EndToEndOptions): Promise<SystemRow[]> {
  const rows: SystemRow[] = [];
  const load = await startLoad();
  try {
    for (const store of o.stores) {
      const dbs =
        store === "sqlite" ? [] : [await createTestDatabase(store), await createTestDatabase(store)];
      const server = startChild(
        "./allinone-process.ts",
        { OPENLINES_HUB_DATABASE_URL: dbs[0]?.url, OPENLINES_PORTAL_DATABASE_URL: dbs[1]?.url },
        hubNodeArgs(),
      );
      let ws: WebSocket | undefined;
      try {
        const ready = await server.next<{ url: string; hash: string; secret: string; token: string }>(
          "ready",
        );
        const seen = new Map<number, number>();
        ws = new WebSocket(`${ready.url.replace("http", "ws")}/api/stream`, {
          headers: { authorization: `Bearer ${ready.token}` },
        });
        ws.on("message", (raw) => {
          const at = benchNow();
          const e = JSON.parse(raw.toString());
          const seq = seqOf(e?.data?.message?.text);
          if (seq >= 0 && !seen.has(seq)) seen.set(seq, at);
        });
        await new Promise<void>((resolve, reject) => {
          ws!.once("open", () => resolve());
          ws!.once("error", reject);
        });
        const target = [{ hash: ready.hash, secret: ready.secret }];
        // Warm-up: one message per chat, so the steady state is messages in open conversations.
        await drive(load, { bases: [ready.url], targets: target, seqStart: 1_000_000, count: 50, rate: 20 });
        // The maximum of this very server, end to end: full speed (32 in flight) until the portal
        // committed all of them; the hub alone (scenario ingest) takes webhooks faster than the
        // portal in the same process commits them, so its figure would overload the portal.
        let max = o.rate(store);
        if (max <= 0) {
          const n = o.maxMessages;
          const full = await drive(load, {
            bases: [ready.url],
            targets: target,
            seqStart: 2_000_000,
            count: n,
            concurrency: 32,
          });
          let pairs: [number, number][] = [];
          const until = Date.now() + 120_000;
          do {
            await new Promise((r) => setTimeout(r, 300));
            pairs = (await server.request<{ pairs: [number, number][] }>({ type: "commits" }, "commits"))
              .pairs;
          } while (pairs.filter(([q]) => q >= 2_000_000).length < n && Date.now() < until);
          const last = Math.max(...pairs.filter(([q]) => q >= 2_000_000).map(([, at]) => at));
          max = n / ((last - Math.min(...full.sent)) / 1000);
          o.log(`end-to-end openlines/${store}: maximum ${Math.round(max)} messages/s committed`);
          await new Promise((r) => setTimeout(r, 2000));
        }
        const rate = Math.max(1, Math.round(max / 2));
        const count = rate * o.seconds;
        o.log(`end-to-end openlines/${store}: ${rate} webhooks/s for ${o.seconds} s…`);
        const load_avg_1m = loadAverage();
        const d = await drive(load, {
          bases: [ready.url],
          targets: [{ hash: ready.hash, secret: ready.secret }],
          seqStart: 0,
          count,
          rate,
        });
        const acked = d.acked.filter((t) => t > 0).length;
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && [...seen.keys()].filter((s) => s < count).length < acked)
          await new Promise((r) => setTimeout(r, 200));
        const commits = new Map(
          (await server.request<{ pairs: [number, number][] }>({ type: "commits" }, "commits")).pairs,
        );
        const toCommit: number[] = [];
        const toEvent: number[] = [];
        let lost = 0;
        for (let k = 0; k < count; k++) {
          if (d.acked[k] === 0) continue;
          const c = commits.get(k);
          const e = seen.get(k);
          if (c === undefined || e === undefined) lost++;
          if (c !== undefined) toCommit.push(c - d.sent[k]);
          if (e !== undefined) toEvent.push(e - d.sent[k]);
        }
        toCommit.sort((a, b) => a - b);
        toEvent.sort((a, b) => a - b);
        const p99 = round(percentile(toEvent, 0.99));
        rows.push({
          system: "openlines",
          store,
          throughput_per_s: rate,
          max_per_s: Math.round(max),
          p50_ms: round(percentile(toEvent, 0.5)),
          p99_ms: p99,
          commit_p50_ms: round(percentile(toCommit, 0.5)),
          commit_p99_ms: round(percentile(toCommit, 0.99)),
          webhook_p50_ms: d.p50_ms,
          webhook_p99_ms: d.p99_ms,
          messages: count,
          acknowledged: acked,
          lost,
          ...(store === "sqlite" ? { target_p99_ms: 50, met: p99 < 50 } : {}),
          load_avg_1m,
          settings:
            "all-in-one (hub + portal, one process), 50 chats on one Telegram line, p50/p99 to the WebSocket event",
        });
        o.log(`  → to commit p99 ${rows.at(-1)!.commit_p99_ms} ms, to WebSocket p99 ${p99} ms`);
      } finally {
        ws?.close();
        await server.stop();
        for (const db of dbs) await db.drop();
      }
    }
  } finally {
    await load.stop();
  }
  return rows;
}
