import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { generateSecret } from "@openlines/protocol/signing";
import { createHttp } from "../support/deliver.js";
import {
  machine,
  measure,
  type ResultRow,
  type Scenario,
  type ScenarioResult,
  type System,
} from "../support/harness.js";
import { startPortalStub } from "../support/portal-stub.js";
import type { Workload } from "../support/workload.js";
import { bullmq } from "../systems/bullmq.js";
import { graphileWorker } from "../systems/graphile-worker.js";
import { openlines } from "../systems/openlines.js";
import { pgBoss } from "../systems/pg-boss.js";

/**
 * Scenario `queue` (issue 3): 100,000 packets over 1,000 lines (100 portals × 10 lines), enqueued
 * by 64 concurrent producers one packet per call, delivered to the portal stub; openlines on its
 * three stores, then pg-boss, graphile-worker and BullMQ doing the same work.
 * Scenario `queue-outage`: the same on the openlines stores with 10% of portals down.
 *
 * Environment: BENCH_MESSAGES (default 100000), BENCH_PRODUCERS (64), BENCH_SYSTEMS (comma list
 * of `system` or `system/store` to run, default all), BENCH_OUTAGE_MODE (`refuse`: a closed port,
 * default; `error`: a portal that answers 503), BENCH_OUTAGE_PEERS=1 to add the peers to the outage
 * scenario, BENCH_STUB_THREAD=0 to run the stub in the main thread.
 */
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 64);
const OUTAGE_MODE = process.env.BENCH_OUTAGE_MODE ?? "refuse";
/**
 * Peers too slow for 100,000 messages inside the scenario's 10-minute budget on the 2-core bench
 * machine run fewer; their rows say how many (docs/performance.md). BENCH_FULL=1 runs everyone at
 * BENCH_MESSAGES.
 */
const PEER_MESSAGES: Partial<Record<ResultRow["system"], number>> =
  process.env.BENCH_FULL === "1" ? {} : { "graphile-worker": 20_000 };

const openlinesSystems = [openlines("sqlite"), openlines("postgres"), openlines("mysql")];
const peers = [pgBoss, graphileWorker, bullmq];

function selected(systems: System[]): System[] {
  const filter = process.env.BENCH_SYSTEMS?.split(",").map((s) => s.trim());
  if (!filter) return systems;
  return systems.filter((s) => filter.includes(s.system) || filter.includes(`${s.system}/${s.store}`));
}

/** A loopback port nothing listens on: a portal that is down refuses connections. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface QueueRunOptions {
  systems: System[];
  messages: number;
  producers: number;
  /** Portals (of 100) that are down. */
  downPortals: number;
  /** Run the stub in its own thread (default) or in this one. */
  stubThread?: boolean;
  timeoutMs?: number;
  log: (line: string) => void;
}

/** Runs each system through the queue workload against one portal stub; one row per system. */
export async function runQueue(o: QueueRunOptions): Promise<ResultRow[]> {
  const secret = generateSecret();
  const stub = await startPortalStub({ secret, thread: o.stubThread ?? true });
  const http = createHttp();
  const dead = await deadPort();
  const rows: ResultRow[] = [];
  try {
    for (const sys of o.systems) {
      const messages = Math.min(o.messages, PEER_MESSAGES[sys.system] ?? o.messages);
      const workload: Workload = {
        tag: `b${randomBytes(3).toString("hex")}`,
        messages,
        portals: 100,
        linesPerPortal: 10,
        downPortals: o.downPortals,
      };
      o.log(`${sys.system}/${sys.store}: ${messages} messages, ${o.producers} producers…`);
      const row = await measureOrReport(
        sys,
        {
          workload,
          stub,
          http,
          secret,
          portalUrl: (p) =>
            p >= o.downPortals
              ? `${stub.url}/portal/${p}`
              : OUTAGE_MODE === "error"
                ? `${stub.url}/down/${p}`
                : `http://127.0.0.1:${dead}/portal/${p}`,
        },
        { producers: o.producers, timeoutMs: o.timeoutMs ?? 300_000, log: o.log },
      );
      if (!row) continue;
      if (o.downPortals > 0) row.outage = true;
      rows.push(row);
      o.log(
        `  → ${row.throughput_per_s} msg/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, ${row.duplicates} duplicates`,
      );
    }
  } finally {
    await http.close();
    await stub.close();
  }
  return rows;
}

/** A system that fails (a dropped connection, a timeout) loses its row, not the whole run. */
async function measureOrReport(...args: Parameters<typeof measure>): Promise<ResultRow | undefined> {
  try {
    return await measure(...args);
  } catch (e) {
    args[2].log(`  ✗ ${args[0].system}/${args[0].store} failed: ${(e as Error).message}`);
    if (process.env.BENCH_STRICT === "1") throw e;
    return undefined;
  }
}

const fromEnv = (systems: System[], downPortals: number, log: (l: string) => void): QueueRunOptions => ({
  systems: selected(systems),
  messages: MESSAGES,
  producers: PRODUCERS,
  downPortals,
  stubThread: process.env.BENCH_STUB_THREAD !== "0",
  timeoutMs: Number(process.env.BENCH_TIMEOUT_MS ?? 300_000),
  log,
});

export const scenarios: Scenario[] = [
  {
    name: "queue",
    async run(o): Promise<ScenarioResult> {
      return {
        machine: machine(),
        results: await runQueue(fromEnv([...openlinesSystems, ...peers], 0, o.log)),
      };
    },
  },
  {
    name: "queue-outage",
    async run(o): Promise<ScenarioResult> {
      const systems =
        process.env.BENCH_OUTAGE_PEERS === "1" ? [...openlinesSystems, ...peers] : openlinesSystems;
      const rows = await runQueue(fromEnv(systems, 10, o.log));
      const baseline = o.previous.queue?.results ?? [];
      for (const row of rows) {
        const base = baseline.find(
          (b) => b.system === row.system && b.store === row.store && b.messages === row.messages && !b.outage,
        );
        if (base && base.p99_ms > 0)
          row.p99_vs_no_outage = Math.round((row.p99_ms / base.p99_ms) * 100) / 100;
      }
      return { machine: machine(), results: rows };
    },
  },
];
