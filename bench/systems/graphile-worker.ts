import { createTestDatabase } from "@openlines/store/testing";
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import pg from "pg";
import type { System } from "../support/harness.js";
import { packetFor, portalIndex } from "../support/workload.js";

/**
 * graphile-worker 0.16 on a fresh PostgreSQL database: `addJob` per message through one
 * WorkerUtils pool, a runner with the concurrency and pool size of graphile-worker's own
 * performance page (24 jobs, pool of 25), LISTEN/NOTIFY wake-ups and the default 2 s poll as
 * the fallback. (The batching `localQueue` of that page arrived in 0.17.)
 */
export const GRAPHILE = { concurrency: 24, maxPoolSize: 25 };

const quiet = new Logger(() => (level, message) => {
  if (level === "error") console.error(`graphile-worker: ${message}`);
});

export const graphileWorker: System = {
  system: "graphile-worker",
  store: "postgres",
  async start(ctx) {
    const database = await createTestDatabase("postgres");
    // Own pools, so a dropped connection is reported instead of crashing the benchmark.
    const pools = [
      new pg.Pool({ connectionString: database.url, max: 10 }),
      new pg.Pool({ connectionString: database.url, max: GRAPHILE.maxPoolSize }),
    ];
    for (const pool of pools) pool.on("error", (e) => console.error(`graphile-worker pool: ${e.message}`));
    const utils = await makeWorkerUtils({ pgPool: pools[0], logger: quiet });
    await utils.migrate();
    const runner = await run({
      pgPool: pools[1],
      concurrency: GRAPHILE.concurrency,
      noHandleSignals: true,
      logger: quiet,
      taskList: {
        deliver: async (payload: any) => {
          await ctx.http.postMessage(
            `${ctx.portalUrl(portalIndex(payload.portal))}/input`,
            ctx.secret,
            payload,
          );
        },
      },
    });
    return {
      settings: `addJob per message; concurrency ${GRAPHILE.concurrency}, pool ${GRAPHILE.maxPoolSize}, LISTEN/NOTIFY`,
      enqueue: async (i) => {
        await utils.addJob("deliver", packetFor(ctx.workload, i));
      },
      stop: async () => {
        await runner.stop();
        await utils.release();
        for (const pool of pools) await pool.end();
        await database.drop();
      },
    };
  },
};
