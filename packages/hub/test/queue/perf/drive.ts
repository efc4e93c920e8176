/**
 * A quick driver of the bench's queue scenario that prints its rows without touching
 * bench/results/latest.json (a tool, not a test). A/B: `--ab <module>` alternates runs of the
 * queue module given (e.g. a copy of an older commit) and the current one, same conditions.
 *   BENCH_MESSAGES=20000 npx tsx packages/hub/test/queue/perf/drive.ts postgres [sqlite mysql]
 *   npx tsx packages/hub/test/queue/perf/drive.ts --ab /abs/path/base/index.ts --rounds 2 postgres
 */
import { loadavg } from "node:os";
import type { DialectName } from "@openlines/store";
import { runQueue } from "../../../../../bench/scenarios/queue.js";
import { bullmq } from "../../../../../bench/systems/bullmq.js";
import { openlines } from "../../../../../bench/systems/openlines.js";

import pg from "pg";
const qcount = new Map<string, number>();
const qtime = new Map<string, number>();
if (process.env.GCDEBUG) {
  const orig = pg.Client.prototype.query as any;
  (pg.Client.prototype as any).query = function (this: any, q: any, ...rest: any[]) {
    const key = typeof q === "string" ? q.slice(0, 40) : (q.name ?? String(q.text).replace(/\s+/g, " ").slice(0, 40));
    qcount.set(key, (qcount.get(key) ?? 0) + 1);
    const t0 = performance.now();
    const r = orig.call(this, q, ...rest);
    if (r && typeof r.then === "function") r.then(() => qtime.set(key, (qtime.get(key) ?? 0) + performance.now() - t0), () => {});
    return r;
  };
}
import { monitorEventLoopDelay } from "node:perf_hooks";
const eld = monitorEventLoopDelay({ resolution: 5 });
eld.enable();
const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const base = opt("--ab");
const rounds = Number(opt("--rounds") ?? 1);
// --bullmq: after each round, BullMQ on Redis under the same conditions (the best peer in docs/performance.md).
const withBullmq = args.includes("--bullmq") && args.splice(args.indexOf("--bullmq"), 1).length > 0;
const stores = (args.length ? args : ["postgres"]) as DialectName[];
const variants: [string, string | undefined][] = base
  ? [
      ["base", base],
      ["new", undefined],
    ]
  : [["new", undefined]];
for (let round = 0; round < rounds; round++) {
  for (const [label, module] of variants) {
    if (module) process.env.BENCH_OL_QUEUE_MODULE = module;
    else delete process.env.BENCH_OL_QUEUE_MODULE;
    const rows = await runQueue({
      systems: [...stores.map((s) => openlines(s)), ...(withBullmq && label === "new" ? [bullmq] : [])],
      messages: Number(process.env.BENCH_MESSAGES ?? 20_000),
      producers: Number(process.env.BENCH_PRODUCERS ?? 64),
      downPortals: 0,
      log: () => {},
    });
    for (const r of rows)
      console.log(
        `${label} ${r.system}/${r.store}: ${r.throughput_per_s} msg/s, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, ` +
          `enqueue ${r.enqueue_per_s}/s, ${r.requests} requests, ${r.duplicates} dups, ` +
          `load ${loadavg()
            .map((l) => l.toFixed(1))
            .join(" ")}`,
      );
  }
}
const g = globalThis as any;
if (g.gc_n) console.log(`groups ${g.gc_n}, avg size ${(g.gc_s / g.gc_n).toFixed(1)}, avg commit ${(g.gc_t / g.gc_n).toFixed(2)} ms`);
console.log(`event loop delay p50 ${(eld.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(eld.percentile(99) / 1e6).toFixed(1)} ms, mean ${(eld.mean / 1e6).toFixed(1)}`);
for (const [k, v] of [...qcount].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(v, k, `${((qtime.get(k) ?? 0) / 1000).toFixed(2)} s, ${((qtime.get(k) ?? 0) / v).toFixed(2)} ms each`);
process.exit(0);
