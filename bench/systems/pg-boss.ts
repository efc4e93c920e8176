import { createTestDatabase } from "@openlines/store/testing";
import PgBoss from "pg-boss";
import type { System } from "../support/harness.js";
import { packetFor, portalIndex } from "../support/workload.js";

/**
 * pg-boss 10 on a fresh PostgreSQL database: `send` per message; `workers` polling workers, each
 * fetching up to `batchSize` jobs and POSTing them concurrently, at the lowest polling interval
 * pg-boss allows (0.5 s). pg-boss 10 has no LISTEN/NOTIFY: a worker that found a full batch
 * fetches again at once only when the batch took longer than the interval, so the batch size
 * is what sets its throughput. Defaults otherwise (pool of 10, retries, archiving).
 */
export const PG_BOSS = { workers: 4, batchSize: 250, pollingIntervalSeconds: 0.5 };

export const pgBoss: System = {
  system: "pg-boss",
  store: "postgres",
  async start(ctx) {
    const database = await createTestDatabase("postgres");
    const boss = new PgBoss({ connectionString: database.url, schedule: false });
    boss.on("error", (e) => console.error(`pg-boss: ${e.message}`));
    await boss.start();
    const queue = "deliver";
    await boss.createQueue(queue);
    for (let k = 0; k < PG_BOSS.workers; k++) {
      await boss.work<any>(
        queue,
        { batchSize: PG_BOSS.batchSize, pollingIntervalSeconds: PG_BOSS.pollingIntervalSeconds },
        async (jobs) => {
          await Promise.all(
            jobs.map((job) =>
              ctx.http.postMessage(
                `${ctx.portalUrl(portalIndex(job.data.portal))}/input`,
                ctx.secret,
                job.data,
              ),
            ),
          );
        },
      );
    }
    return {
      settings: `send per message; ${PG_BOSS.workers} workers × batchSize ${PG_BOSS.batchSize}, polling ${PG_BOSS.pollingIntervalSeconds} s`,
      enqueue: async (i) => {
        await boss.send(queue, packetFor(ctx.workload, i));
      },
      stop: async () => {
        await boss.stop({ graceful: false, wait: true, close: true, timeout: 5_000 });
        await database.drop();
      },
    };
  },
};
