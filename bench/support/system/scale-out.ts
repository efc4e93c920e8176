import { benchNow, percentile, round } from "../stats.js";
import { drive, startHub, startLoad, startStubs } from "./cluster.js";
import { loadAverage, type SystemRow } from "./rows.js";
import { seedHub } from "./seed.js";

export interface ScaleOutOptions {
  counts: number[];
  messages: number;
  concurrency: number;
  portals: number;
  stubs: number;
  lines: number;
  /** Add a row with this many hubs where one is killed (SIGKILL) halfway; 0 = none. */
  killWith: number;
  log: (line: string) => void;
}

/**
 * Scenario `scale-out`: 1, 2, 3 hub processes on one PostgreSQL, webhooks spread over them by the
 * load generator (a retrying client, as Telegram is), delivering to several portals played by
 * stub processes. Throughput is distinct messages delivered per second, first request to last
 * arrival; latency is webhook sent → arrival at the portal. The kill row SIGKILLs one hub halfway
 * through: the generator sends what that hub refused to another (as Telegram retries), and every
 * acknowledged message must still arrive — the killed hub's lines are taken over after the lease.
 */
export async function runScaleOut(o: ScaleOutOptions): Promise<SystemRow[]> {
  const rows: SystemRow[] = [];
  const stubs = await startStubs(o.stubs);
  const load = await startLoad();
  let seq = 0;
  const runs: { hubs: number; kill: boolean }[] = o.counts.map((hubs) => ({ hubs, kill: false }));
  if (o.killWith > 1) runs.push({ hubs: o.killWith, kill: true });
  try {
    for (const run of runs) {
      await stubs.reset();
      const seeded = await seedHub({
        dialect: "postgres",
        portals: Array.from(
          { length: o.portals },
          (_, p) => `${stubs.urls[p % stubs.urls.length]}/portal/${p}`,
        ),
        portalSecret: stubs.secret,
        lines: o.lines,
      });
      const hubs = await Promise.all(Array.from({ length: run.hubs }, () => startHub(seeded)));
      try {
        o.log(
          `scale-out: ${run.hubs} hub(s)${run.kill ? ", one killed halfway" : ""}, ${o.messages} webhooks…`,
        );
        const load_avg_1m = loadAverage();
        const seqStart = seq;
        seq += o.messages;
        const driving = drive(load, {
          bases: hubs.map((h) => h.url),
          targets: seeded.lines,
          seqStart,
          count: o.messages,
          concurrency: o.concurrency,
          retry: true,
        });
        let killedAt: number | undefined;
        if (run.kill) {
          // Halfway: when half the messages arrived at the portals.
          await stubs.wait(Math.floor(o.messages / 2), 120_000);
          killedAt = benchNow();
          await hubs[hubs.length - 1].child.kill();
          o.log("  killed one hub (SIGKILL)");
        }
        const d = await driving;
        const acked = d.acked.filter((t) => t > 0).length;
        // The lease of a killed hub's lines runs out after 30 s before another hub takes them over.
        const got = await stubs.wait(acked, 120_000);
        const arrivals = await stubs.arrivals();
        let lost = 0;
        let last = 0;
        const latencies: number[] = [];
        for (let k = 0; k < o.messages; k++) {
          if (d.acked[k] === 0) continue;
          const at = arrivals.get(seqStart + k);
          if (at === undefined) {
            lost++;
            continue;
          }
          if (at > last) last = at;
          latencies.push(at - d.sent[k]);
        }
        latencies.sort((a, b) => a - b);
        const first = Math.min(...d.sent);
        rows.push({
          system: "openlines",
          store: "postgres",
          instances: run.hubs,
          killed: run.kill ? 1 : 0,
          throughput_per_s: Math.round(latencies.length / ((last - first) / 1000)),
          p50_ms: round(percentile(latencies, 0.5)),
          p99_ms: round(percentile(latencies, 0.99)),
          webhooks_per_s: Math.round(acked / (d.elapsed_ms / 1000)),
          messages: o.messages,
          acknowledged: acked,
          lost,
          duplicates: got.duplicates,
          retried: d.retries,
          ...(killedAt ? { drained_after_kill_s: round((last - killedAt) / 1000) } : {}),
          load_avg_1m,
          settings: `${o.portals} portals on ${o.stubs} stub processes, ${o.lines} lines, ${o.concurrency} requests in flight`,
        });
        o.log(
          `  → ${rows.at(-1)!.throughput_per_s} msg/s delivered, ${lost} lost, ${got.duplicates} duplicates`,
        );
      } finally {
        await Promise.all(hubs.map((h) => h.child.stop()));
        await seeded.drop();
      }
    }
  } finally {
    await load.stop();
    await stubs.stop();
  }
  return rows;
}
