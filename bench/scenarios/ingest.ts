import type { DialectName } from "@openlines/store";
import type { Scenario } from "../support/harness.js";
import { runIngest } from "../support/system/ingest.js";
import { envList, envNumber, formatRows, systemResult } from "../support/system/rows.js";

/**
 * Scenario `ingest` (issue 10): Telegram-shaped webhooks at full speed against the hub on each
 * store, and against a do-nothing Fastify route (the ceiling). Environment: BENCH_INGEST_STORES
 * (default `sqlite,postgres`), BENCH_INGEST_SECONDS (15), BENCH_INGEST_WARMUP_SECONDS (3),
 * BENCH_INGEST_CONNECTIONS (32), BENCH_INGEST_LINES (100).
 */
export const scenarios: Scenario[] = [
  {
    name: "ingest",
    format: formatRows,
    async run(o) {
      const rows = await runIngest({
        stores: envList("BENCH_INGEST_STORES", ["sqlite", "postgres"]) as DialectName[],
        lines: envNumber("BENCH_INGEST_LINES", 100),
        connections: envNumber("BENCH_INGEST_CONNECTIONS", 32),
        durationS: envNumber("BENCH_INGEST_SECONDS", 15),
        warmupS: envNumber("BENCH_INGEST_WARMUP_SECONDS", 3),
        log: o.log,
      });
      return systemResult(rows);
    },
  } as Scenario,
];
