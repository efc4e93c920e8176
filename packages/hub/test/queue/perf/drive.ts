/**
 * A quick driver of the bench's queue scenario that prints its rows without touching
 * bench/results/latest.json (a tool, not a test). A/B: `--ab <module>` alternates runs of the
 * queue module given (e.g. a copy of an older commit) and the current one, same conditions.
 *   BENCH_MESSAGES=20000 npx tsx packages/hub/test/queue/perf/drive.ts postgres [sqlite mysql]
 *   npx tsx packages/hub/test/queue/perf/drive.ts --ab /abs/path/base/index.ts --rounds 2 postgres
 * `--outage` puts 10 of the 100 portals down (scenario queue-outage). `--stats` adds the main
 * thread's event-loop delay and the statements sent to PostgreSQL by name. BENCH_TIMELINE=1 prints,
 * per 500 ms, the packets enqueued and delivered (bench/support/harness.ts).
 */
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { DialectName } from "@openlines/store";
import pg from "pg";
import { runQueue } from "../../../../../bench/scenarios/queue.js";
import { bullmq } from "../../../../../bench/systems/bullmq.js";
import { openlines } from "../../../../../bench/systems/openlines.js";

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
const withStats = args.includes("--stats") && args.splice(args.indexOf("--stats"), 1).length > 0;
// --outage: 10 of the 100 portals down, as in the queue-outage scenario.
const withOutage = args.includes("--outage") && args.splice(args.indexOf("--outage"), 1).length > 0;
const statements = new Map<string, number>();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
if (withStats) {
  loopDelay.enable();
  const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, q: unknown, ...rest: unknown[]) {
    const key =
      typeof q === "string"
        ? q
        : ((q as { name?: string; text?: string }).name ?? String((q as { text?: string }).text));
    const short = key.replace(/\s+/g, " ").slice(0, 50);
    statements.set(short, (statements.get(short) ?? 0) + 1);
    return query.call(this, q, ...rest);
  } as typeof pg.Client.prototype.query;
}
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
      downPortals: withOutage ? 10 : 0,
      log: process.env.BENCH_TIMELINE === "1" ? (l) => console.log(l) : () => {},
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
if (withStats) {
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  console.log(
    `event-loop delay p50 ${ms(loopDelay.percentile(50))} ms, p99 ${ms(loopDelay.percentile(99))} ms`,
  );
  // CPU seconds per thread of this process (Linux), to tell the main thread from the stub's.
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
    const name = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
    if (cpu >= 0.1) console.log(`thread ${name} (${tid}): ${cpu.toFixed(1)} s CPU`);
  }
  for (const [text, n] of [...statements].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`${n} × ${text}`);
}
process.exit(0);
