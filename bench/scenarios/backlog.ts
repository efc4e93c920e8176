import type { DialectName } from "@openlines/store";
import type { Scenario } from "../support/harness.js";
import { runBacklog } from "../support/system/backlog.js";
import { envNumber, formatRows, systemResult } from "../support/system/rows.js";

/**
 * Scenario `backlog` (issue 10): a portal that was down comes back to a backlog of BENCH_BACKLOG
 * packets (default 1,000,000, the figure: about 2.5 minutes on the bench machine) while
 * another portal gets BENCH_BACKLOG_RATE webhooks/s (20): time to drain, and the other portal's
 * latency against its baseline. BENCH_BACKLOG_STORE (`postgres`).
 */
export const scenarios: Scenario[] = [
  {
    name: "backlog",
    format: formatRows,
    async run(o) {
      const rows = await runBacklog({
        store: (process.env.BENCH_BACKLOG_STORE ?? "postgres") as DialectName,
        backlog: envNumber("BENCH_BACKLOG", 1_000_000),
        rate: envNumber("BENCH_BACKLOG_RATE", 20),
        baselineS: envNumber("BENCH_BACKLOG_BASELINE_SECONDS", 10),
        log: o.log,
      });
      return systemResult(rows);
    },
  } as Scenario,
];
