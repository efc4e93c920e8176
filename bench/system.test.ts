import { describe, expect, it } from "vitest";
import { runIdle } from "./support/system/idle.js";
import { runIngest } from "./support/system/ingest.js";

/**
 * The whole-system scenarios stay runnable: tiny sizes, shapes and no loss, never timings (the
 * figures come from `npm run bench`).
 */
describe("the whole-system benchmark", () => {
  it("ingests Telegram webhooks through a real hub process and every acknowledged one reaches the portal", async () => {
    const rows = await runIngest({
      stores: ["sqlite"],
      lines: 5,
      connections: 4,
      durationS: 1,
      warmupS: 0,
      log: () => {},
    });
    expect(rows.map((r) => `${r.system}/${r.store}`)).toEqual(["openlines/sqlite", "fastify-noop/none"]);
    const [ours, ceiling] = rows;
    expect(ours.requests).toBeGreaterThan(0);
    expect(ours.throughput_per_s).toBeGreaterThan(0);
    expect(ours.non2xx).toBe(0);
    expect(ours.lost).toBe(0);
    expect(ours.duplicates).toBe(0);
    expect(ours.p99_ms).toBeGreaterThanOrEqual(ours.p50_ms);
    expect(ceiling.throughput_per_s).toBeGreaterThan(0);
    expect(ours.vs_ceiling).toBeTypeOf("number");
  }, 120_000);

  it("measures an idle hub's CPU time and resident memory", async () => {
    const rows = await runIdle({ stores: ["sqlite"], lines: 50, seconds: 1, settleS: 0, log: () => {} });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ system: "openlines", store: "sqlite", lines: 50 });
    expect(rows[0].rss_mib).toBeGreaterThan(0);
    expect(rows[0].cpu_percent).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
