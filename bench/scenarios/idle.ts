import type { DialectName } from "@openlines/store";
import type { Scenario } from "../support/harness.js";
import { runIdle } from "../support/system/idle.js";
import { envList, envNumber, formatRows, systemResult } from "../support/system/rows.js";

/**
 * Scenario `idle` (issue 10): a hub with 10,000 configured lines and no traffic for 30 s; CPU
 * share of one core and resident memory. Environment: BENCH_IDLE_STORES (default
 * `sqlite,postgres`), BENCH_IDLE_LINES (10000), BENCH_IDLE_SECONDS (30).
 */
export const scenarios: Scenario[] = [
  {
    name: "idle",
    format: formatRows,
    async run(o) {
      const rows = await runIdle({
        stores: envList("BENCH_IDLE_STORES", ["sqlite", "postgres"]) as DialectName[],
        lines: envNumber("BENCH_IDLE_LINES", 10_000),
        seconds: envNumber("BENCH_IDLE_SECONDS", 30),
        settleS: 3,
        log: o.log,
      });
      return systemResult(rows);
    },
  } as Scenario,
];
