import { generateSecret } from "@openlines/protocol/signing";
import { type Child, startChild } from "./child.js";
import type { SeededHub } from "./seed.js";

/** Portal stubs (each its own process) and hub processes over one seeded database. */
export interface Stubs {
  secret: string;
  urls: string[];
  children: Child[];
  reset(): Promise<void>;
  /** Arrival time of each `#seq`, first arrival over all stubs. */
  arrivals(): Promise<Map<number, number>>;
  /** Waits until the stubs together took `count` distinct messages, or `timeoutMs` passed. */
  wait(count: number, timeoutMs: number): Promise<{ arrived: number; duplicates: number }>;
  stop(): Promise<void>;
}

export async function startStubs(n: number): Promise<Stubs> {
  const secret = generateSecret();
  const children = Array.from({ length: n }, () =>
    startChild("./stub-process.ts", { BENCH_STUB_SECRET: secret }),
  );
  const urls = await Promise.all(children.map(async (c) => (await c.next<{ url: string }>("ready")).url));
  const stats = () =>
    Promise.all(
      children.map((c) => c.request<{ arrived: number; duplicates: number }>({ type: "stats" }, "stats")),
    );
  return {
    secret,
    urls,
    children,
    async reset() {
      await Promise.all(children.map((c) => c.request({ type: "reset" }, "stats")));
    },
    async arrivals() {
      const all = new Map<number, number>();
      for (const c of children) {
        const { pairs } = await c.request<{ pairs: [number, number][] }>({ type: "arrivals" }, "arrivals");
        for (const [seq, at] of pairs) if (!all.has(seq) || all.get(seq)! > at) all.set(seq, at);
      }
      return all;
    },
    async wait(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await stats();
        const arrived = s.reduce((a, b) => a + b.arrived, 0);
        const duplicates = s.reduce((a, b) => a + b.duplicates, 0);
        if (arrived >= count || Date.now() > deadline) return { arrived, duplicates };
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop: async () => {
      await Promise.all(children.map((c) => c.stop()));
    },
  };
}

/** BENCH_HUB_PROFILE=<dir>: hub processes write a V8 CPU profile there (`--cpu-prof`). */
export const hubNodeArgs = () =>
  process.env.BENCH_HUB_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_HUB_PROFILE}`] : [];

export async function startHub(seeded: SeededHub, env: Record<string, string> = {}) {
  const child = startChild(
    "./hub-process.ts",
    { BENCH_MODE: "hub", OPENLINES_HUB_DATABASE_URL: seeded.url, OPENLINES_HUB_KEY: seeded.key, ...env },
    hubNodeArgs(),
  );
  const { url } = await child.next<{ url: string }>("ready");
  return { child, url };
}

export async function startLoad(): Promise<Child> {
  const load = startChild("./load-process.ts");
  await load.next("ready");
  return load;
}

export interface DriveResult {
  sent: number[];
  acked: number[];
  statuses: Record<string, number>;
  retries: number;
  elapsed_ms: number;
  p50_ms: number;
  p99_ms: number;
}

export function drive(
  load: Child,
  job: {
    bases: string[];
    targets: { hash: string; secret: string }[];
    seqStart: number;
    count: number;
    rate?: number;
    concurrency?: number;
    retry?: boolean;
  },
): Promise<DriveResult> {
  return load.request<DriveResult>({ type: "drive", ...job }, "drive");
}
