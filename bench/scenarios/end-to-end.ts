import type { DialectName } from "@openlines/store";
import type { Scenario } from "../support/harness.js";
import { runEndToEnd } from "../support/system/end-to-end.js";
import { envList, envNumber, formatRows, systemResult } from "../support/system/rows.js";

/**
 * Scenario `end-to-end` (issue 10): webhook → portal commit → operator's WebSocket event through
 * the all-in-one server, at half the maximum rate that the latest `ingest` run measured on the same
 * store (BENCH_E2E_RATE overrides; 20/s when there is no ingest figure). BENCH_E2E_STORES
 * (`sqlite`), BENCH_E2E_SECONDS (15).
 */
export const scenarios: Scenario[] = [
  {
    name: "end-to-end",
    format: formatRows,
    async run(o) {
      const ingest = (o.previous.ingest?.results ?? []) as unknown as {
        system: string;
        store: string;
        throughput_per_s: number;
      }[];
      const rows = await runEndToEnd({
        stores: envList("BENCH_E2E_STORES", ["sqlite"]) as DialectName[],
        rate: (store) => {
          if (process.env.BENCH_E2E_RATE) return Number(process.env.BENCH_E2E_RATE);
          const max = ingest.find((r) => r.system === "openlines" && r.store === store)?.throughput_per_s;
          return max ? max / 2 : 20;
        },
        seconds: envNumber("BENCH_E2E_SECONDS", 15),
        log: o.log,
      });
      return systemResult(rows);
    },
  } as Scenario,
];
