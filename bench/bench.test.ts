import { describe, expect, it } from "vitest";
import { runQueue } from "./scenarios/queue.js";
import { openlines } from "./systems/openlines.js";

describe("the benchmark harness", () => {
  it("runs the queue scenario on SQLite and every message reaches the portal stub", async () => {
    const rows = await runQueue({
      systems: [openlines("sqlite")],
      messages: 200,
      producers: 20,
      downPortals: 0,
      stubThread: false,
      timeoutMs: 30_000,
      log: () => {},
    });
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row).toMatchObject({ system: "openlines", store: "sqlite", messages: 200 });
    for (const key of ["throughput_per_s", "p50_ms", "p99_ms"] as const) {
      expect(Number.isFinite(row[key])).toBe(true);
      expect(row[key]).toBeGreaterThan(0);
    }
    expect(row.p99_ms).toBeGreaterThanOrEqual(row.p50_ms);
    expect(row.duplicates).toBe(0);
    expect(row.outage).toBeUndefined();
  });

  it("leaves the messages of down portals out of the healthy figures", async () => {
    const rows = await runQueue({
      systems: [openlines("sqlite")],
      messages: 200,
      producers: 20,
      downPortals: 10,
      stubThread: false,
      timeoutMs: 30_000,
      log: () => {},
    });
    expect(rows[0]).toMatchObject({ system: "openlines", store: "sqlite", outage: true });
    expect(rows[0].p99_ms).toBeGreaterThan(0);
  });
});
