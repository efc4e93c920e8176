import type { Scenario } from "../support/harness.js";
import { envList, envNumber, formatRows, systemResult } from "../support/system/rows.js";
import { runScaleOut } from "../support/system/scale-out.js";

/**
 * Scenario `scale-out` (issue 10): 1, 2, 3 hub processes on one PostgreSQL delivering to 4 portals
 * (2 stub processes), then 2 hubs with one killed halfway. Environment: BENCH_SCALE_COUNTS
 * (`1,2,3`), BENCH_SCALE_MESSAGES (4000), BENCH_SCALE_CONCURRENCY (32), BENCH_SCALE_KILL (2; 0 = no
 * kill row).
 */
export const scenarios: Scenario[] = [
  {
    name: "scale-out",
    format: formatRows,
    async run(o) {
      const rows = await runScaleOut({
        counts: envList("BENCH_SCALE_COUNTS", ["1", "2", "3"]).map(Number),
        messages: envNumber("BENCH_SCALE_MESSAGES", 4000),
        concurrency: envNumber("BENCH_SCALE_CONCURRENCY", 32),
        portals: 4,
        stubs: 2,
        lines: 40,
        killWith: envNumber("BENCH_SCALE_KILL", 2),
        log: o.log,
      });
      return systemResult(rows);
    },
  } as Scenario,
];
