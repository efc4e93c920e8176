import { generateSecret } from "@openlines/protocol/signing";
import type { DialectName } from "@openlines/store";
import { type Child, startChild } from "./child.js";
import { hubNodeArgs } from "./cluster.js";
import { loadAverage, type SystemRow } from "./rows.js";
import { seedHub } from "./seed.js";

export interface IngestOptions {
  stores: DialectName[];
  lines: number;
  connections: number;
  durationS: number;
  warmupS: number;
  log: (line: string) => void;
}

interface AutocannonResult {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requests: number;
  throughput_per_s: number;
  p50_ms: number;
  p99_ms: number;
  seqEnd: number;
}

/** The row figures of one autocannon run (timeouts count as errors). */
function loadFigures(r: AutocannonResult) {
  return {
    throughput_per_s: r.throughput_per_s,
    p50_ms: r.p50_ms,
    p99_ms: r.p99_ms,
    requests: r.requests,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/**
 * Scenario `ingest`: Telegram webhooks at full speed from autocannon (its own process) against the
 * real hub (its own process, delivering to a signature-checking portal stub in a third), for each
 * store; then the same load against a Fastify route that does nothing, the machine's ceiling.
 * After the load, waits until every acknowledged update reached the stub: `lost` must be 0.
 */
export async function runIngest(o: IngestOptions): Promise<SystemRow[]> {
  const rows: SystemRow[] = [];
  const load = startChild("./load-process.ts");
  await load.next("ready");
  const secret = generateSecret();
  const stub = startChild("./stub-process.ts", { BENCH_STUB_SECRET: secret });
  const stubUrl = (await stub.next<{ url: string }>("ready")).url;
  let seq = 0;
  const hammer = async (url: string, targets: { hash: string; secret: string }[], durationS: number) => {
    const r = await load.request<AutocannonResult>(
      { type: "autocannon", url, targets, connections: o.connections, durationS, seqStart: seq },
      "autocannon",
    );
    seq = r.seqEnd;
    return r;
  };
  try {
    for (const store of o.stores) {
      await stub.request({ type: "reset" }, "stats");
      const seeded = await seedHub({
        dialect: store,
        portals: Array.from({ length: 10 }, (_, p) => `${stubUrl}/portal/${p}`),
        portalSecret: secret,
        lines: o.lines,
      });
      let hub: Child | undefined;
      try {
        hub = startChild(
          "./hub-process.ts",
          {
            BENCH_MODE: "hub",
            OPENLINES_HUB_DATABASE_URL: seeded.url,
            OPENLINES_HUB_KEY: seeded.key,
          },
          hubNodeArgs(),
        );
        const { url } = await hub.next<{ url: string }>("ready");
        o.log(`ingest openlines/${store}: warm-up ${o.warmupS} s, then ${o.durationS} s…`);
        const warm = o.warmupS > 0 ? await hammer(url, seeded.lines, o.warmupS) : undefined;
        const load_avg_1m = loadAverage();
        const r = await hammer(url, seeded.lines, o.durationS);
        const acknowledged = (warm?.ok ?? 0) + r.ok;
        const got = await stub.request<{ arrived: number; duplicates: number }>(
          { type: "wait", count: acknowledged, timeoutMs: 120_000 },
          "stats",
        );
        rows.push({
          system: "openlines",
          store,
          ...loadFigures(r),
          lost: Math.max(0, acknowledged - got.arrived),
          duplicates: got.duplicates,
          load_avg_1m,
          settings: `${o.lines} lines, ${o.connections} connections, ${o.durationS} s after ${o.warmupS} s warm-up`,
        });
        o.log(`  → ${r.throughput_per_s} req/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms`);
      } finally {
        await hub?.stop();
        await seeded.drop();
      }
    }
    const noop = startChild("./hub-process.ts", { BENCH_MODE: "noop" });
    try {
      const { url } = await noop.next<{ url: string }>("ready");
      o.log(`ingest fastify-noop: ${o.durationS} s…`);
      const targets = [{ hash: "noop", secret: "noop" }];
      if (o.warmupS > 0) await hammer(url, targets, o.warmupS);
      const load_avg_1m = loadAverage();
      const r = await hammer(url, targets, o.durationS);
      rows.push({
        system: "fastify-noop",
        store: "none",
        ...loadFigures(r),
        load_avg_1m,
        settings: `same load, a route that answers 200 and does nothing`,
      });
    } finally {
      await noop.stop();
    }
    const ceiling = rows.find((r) => r.system === "fastify-noop")!.throughput_per_s;
    for (const row of rows) {
      if (row.system !== "openlines") continue;
      row.vs_ceiling = Math.round((row.throughput_per_s / ceiling) * 10_000) / 10_000;
      row.target_vs_ceiling = row.store === "sqlite" ? 0.5 : 0.3;
    }
  } finally {
    await stub.stop();
    await load.stop();
  }
  return rows;
}
