import type { DialectName } from "@openlines/store";
import type { Scenario } from "../support/harness.js";
import { runEndToEnd } from "../support/system/end-to-end.js";
import { envList, envNumber, formatRows, systemResult } from "../support/system/rows.js";

/**
 * Scenario `end-to-end` (issue 10): webhook → portal commit → operator's WebSocket event through
 * the all-in-one server, at half the maximum rate that the same server sustains end to end, measured
 * first with BENCH_E2E_MAX_MESSAGES (1000) at full speed; BENCH_E2E_MAX_RATE=<n> skips that and
 * runs at n/2. BENCH_E2E_STORES (`sqlite,postgres`), BENCH_E2E_SECONDS (15).
 */
export const scenarios: Scenario[] = [
  {
    name: "end-to-end",
    format: formatRows,
    async run(o) {
      const rows = await runEndToEnd({
        stores: envList("BENCH_E2E_STORES", ["sqlite", "postgres"]) as DialectName[],
        rate: () => envNumber("BENCH_E2E_MAX_RATE", 0),
        maxMessages: envNumber("BENCH_E2E_MAX_MESSAGES", 1000),
        seconds: envNumber("BENCH_E2E_SECONDS", 15),
        log: o.log,
      });
      return systemResult(rows);
    },
  } as Scenario,
];
