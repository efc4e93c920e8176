import { cpus } from "node:os";
import type { Http } from "./deliver.js";
import type { PortalStub } from "./portal-stub.js";
import { benchNow, percentile, round } from "./stats.js";
import { healthyCount, isDown, type Workload } from "./workload.js";

/** One row of a scenario's results (bench/results/latest.json). */
export interface ResultRow {
  system: "openlines" | "pg-boss" | "graphile-worker" | "bullmq";
  store: "sqlite" | "postgres" | "mysql" | "redis";
  /** Messages enqueued in this row's run (all of them, down portals' included). */
  messages: number;
  /** Delivered messages per second, first enqueue call to last arrival (healthy portals only). */
  throughput_per_s: number;
  /** End-to-end latency, enqueue call start → arrival at the portal stub (healthy portals only). */
  p50_ms: number;
  p99_ms: number;
  /** Enqueue calls completed per second (each call awaited its durable commit). */
  enqueue_per_s: number;
  /** Messages the stub received more than once. */
  duplicates: number;
  /** HTTP requests the stub took: batches for openlines, one per message for the peers. */
  requests: number;
  outage?: boolean;
  /** p99 of this outage row ÷ p99 of the same system and store without outage. */
  p99_vs_no_outage?: number;
  /** Wall time of the row's run, fresh store to stopped system, in seconds. */
  duration_s?: number;
  /** Settings worth knowing when reading the row. */
  settings?: string;
}

export interface ScenarioResult {
  machine: { cores: number; node: string };
  results: ResultRow[];
}

export interface ScenarioOptions {
  /** The latest.json content before this run, to compare with. */
  previous: Record<string, ScenarioResult | undefined>;
  log: (line: string) => void;
}

/** A benchmark scenario; files in bench/scenarios export `scenarios: Scenario[]`. */
export interface Scenario {
  name: string;
  run(options: ScenarioOptions): Promise<ScenarioResult>;
}

export const machine = () => ({ cores: cpus().length, node: process.version });

export interface RunContext {
  workload: Workload;
  stub: PortalStub;
  http: Http;
  /** The signing secret every portal of the benchmark shares with the hub. */
  secret: string;
  /** Base URL of portal p: the stub, or a dead address for a portal in outage. */
  portalUrl(portal: number): string;
}

/** A system under test, started on a fresh store, ready to take messages. */
export interface Running {
  /** Enqueues message i; resolves once the system has stored it durably (its own meaning). */
  enqueue(i: number): Promise<void>;
  stop(): Promise<void>;
  settings: string;
}

export interface System {
  system: ResultRow["system"];
  store: ResultRow["store"];
  start(ctx: RunContext): Promise<Running>;
}

export interface MeasureOptions {
  producers: number;
  timeoutMs: number;
  log: (line: string) => void;
}

/**
 * Runs one system through the workload: `producers` concurrent callers each enqueue one message
 * at a time (as webhook handlers would), while the system delivers to the stub. Waits until every
 * message for a healthy portal has arrived, then stops the system.
 */
export async function measure(sys: System, ctx: RunContext, o: MeasureOptions): Promise<ResultRow> {
  const w = ctx.workload;
  const expected = healthyCount(w);
  const begun = Date.now();
  const recording = await ctx.stub.record(w.tag, w.messages, expected);
  const running = await sys.start(ctx);
  const started = new Float64Array(w.messages);
  let row: ResultRow | undefined;
  let next = 0;
  let enqueued = 0;
  const t0 = benchNow();
  const progress = setInterval(() => {
    o.log(
      `  ${sys.system}/${sys.store}: ${enqueued} enqueued, ${recording.counter("arrived")} of ${expected} arrived`,
    );
  }, 10_000);
  try {
    const producer = async () => {
      for (let i = next++; i < w.messages; i = next++) {
        started[i] = benchNow();
        await running.enqueue(i);
        enqueued++;
      }
    };
    await Promise.all(Array.from({ length: o.producers }, producer));
    const enqueueMs = benchNow() - t0;
    await recording.complete(o.timeoutMs);
    let last = 0;
    const latencies = new Float64Array(expected);
    let k = 0;
    for (let i = 0; i < w.messages; i++) {
      if (isDown(w, i)) continue;
      const at = recording.arrivals[i];
      if (at > last) last = at;
      latencies[k++] = at - started[i];
    }
    latencies.sort();
    if (process.env.BENCH_TIMELINE === "1") printTimeline(w, started, recording.arrivals, t0, o.log);
    row = {
      system: sys.system,
      store: sys.store,
      messages: w.messages,
      throughput_per_s: Math.round(expected / ((last - t0) / 1000)),
      p50_ms: round(percentile(latencies, 0.5)),
      p99_ms: round(percentile(latencies, 0.99)),
      enqueue_per_s: Math.round(w.messages / (enqueueMs / 1000)),
      duplicates: recording.counter("duplicates"),
      requests: recording.counter("requests"),
      settings: running.settings,
    };
  } finally {
    clearInterval(progress);
    await running.stop();
  }
  row.duration_s = Math.round((Date.now() - begun) / 1000);
  return row;
}

/**
 * Diagnostic (BENCH_TIMELINE=1): per 500 ms of the run, how many messages were enqueued (call
 * started) and how many arrived at the stub, and the mean latency of those that arrived.
 */
function printTimeline(
  w: Workload,
  started: Float64Array,
  arrivals: Float64Array,
  t0: number,
  log: (line: string) => void,
): void {
  const step = 500;
  const enq: number[] = [];
  const arr: number[] = [];
  const lat: number[] = [];
  for (let i = 0; i < w.messages; i++) {
    const e = Math.floor((started[i] - t0) / step);
    enq[e] = (enq[e] ?? 0) + 1;
    if (isDown(w, i)) continue;
    const a = Math.floor((arrivals[i] - t0) / step);
    arr[a] = (arr[a] ?? 0) + 1;
    lat[a] = (lat[a] ?? 0) + (arrivals[i] - started[i]);
  }
  for (let k = 0; k < Math.max(enq.length, arr.length); k++) {
    const n = arr[k] ?? 0;
    log(
      `  ${((k * step) / 1000).toFixed(1)} s: ${enq[k] ?? 0} enqueued, ${n} arrived` +
        (n ? `, mean latency ${Math.round((lat[k] ?? 0) / n)} ms` : ""),
    );
  }
}
