import type { DialectName } from "@openlines/store";
import { startChild } from "./child.js";
import { hubNodeArgs } from "./cluster.js";
import { loadAverage, type SystemRow } from "./rows.js";
import { seedHub } from "./seed.js";

export interface IdleOptions {
  stores: DialectName[];
  lines: number;
  seconds: number;
  /** Time given to the started hub before measuring (its start-up work is not idling). */
  settleS: number;
  log: (line: string) => void;
}

interface Usage {
  cpu: { user: number; system: number };
  rss: number;
}

/**
 * Scenario `idle`: a hub process with `lines` configured, active Telegram lines (inserted in bulk)
 * and no traffic at all for `seconds`: the CPU time it used in that window (its own
 * `process.cpuUsage`, user + system) as a share of one core, and its resident memory at the end.
 */
export async function runIdle(o: IdleOptions): Promise<SystemRow[]> {
  const rows: SystemRow[] = [];
  for (const store of o.stores) {
    const seeded = await seedHub({
      dialect: store,
      // Nothing is ever queued, so nothing is sent: the address does not matter.
      portals: ["http://127.0.0.1:9/portal"],
      portalSecret: "whsec_aWRsZS1iZW5jaC1zZWNyZXQtbm90LXVzZWQ=",
      lines: o.lines,
    });
    const hub = startChild(
      "./hub-process.ts",
      { BENCH_MODE: "hub", OPENLINES_HUB_DATABASE_URL: seeded.url, OPENLINES_HUB_KEY: seeded.key },
      hubNodeArgs(),
    );
    try {
      await hub.next("ready");
      await new Promise((r) => setTimeout(r, o.settleS * 1000));
      o.log(`idle openlines/${store}: ${o.lines} lines, ${o.seconds} s without traffic…`);
      const load_avg_1m = loadAverage();
      const before = await hub.request<Usage>({ type: "usage" }, "usage");
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, o.seconds * 1000));
      const after = await hub.request<Usage>({ type: "usage" }, "usage");
      const wallMs = performance.now() - t0;
      const cpuMs = (after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system) / 1000;
      const cpuPercent = Math.round((cpuMs / wallMs) * 100 * 1000) / 1000;
      const rssMib = Math.round((after.rss / 2 ** 20) * 10) / 10;
      rows.push({
        system: "openlines",
        store,
        throughput_per_s: 0,
        p50_ms: 0,
        p99_ms: 0,
        lines: o.lines,
        idle_s: Math.round(wallMs / 100) / 10,
        cpu_ms: Math.round(cpuMs),
        cpu_percent: cpuPercent,
        rss_mib: rssMib,
        target: "cpu < 1%, rss < 300 MiB",
        met: cpuPercent < 1 && rssMib < 300,
        load_avg_1m,
      });
      o.log(`  → ${cpuMs.toFixed(0)} ms CPU (${cpuPercent}% of a core), ${rssMib} MiB resident`);
    } finally {
      await hub.stop();
      await seeded.drop();
    }
  }
  return rows;
}
