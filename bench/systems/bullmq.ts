import { Queue, Worker } from "bullmq";
import type { System } from "../support/harness.js";
import { packetFor, portalIndex } from "../support/workload.js";

/**
 * BullMQ 5 on the local Redis: `Queue.add` per message with `removeOnComplete`, one Worker with
 * concurrency 50 (BullMQ's advice for I/O-bound processors is a high concurrency in one worker).
 * Each run uses its own queue name and obliterates it afterwards; nothing else in Redis is touched.
 */
export const BULLMQ = { concurrency: 50 };

export const bullmq: System = {
  system: "bullmq",
  store: "redis",
  async start(ctx) {
    const connection = { host: "127.0.0.1", port: 6379, maxRetriesPerRequest: null };
    const name = `openlines-bench-${ctx.workload.tag}`;
    const queue = new Queue(name, {
      connection,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 1000, attempts: 5 },
    });
    const worker = new Worker(
      name,
      async (job) => {
        await ctx.http.postMessage(
          `${ctx.portalUrl(portalIndex(job.data.portal))}/input`,
          ctx.secret,
          job.data,
        );
      },
      { connection, concurrency: BULLMQ.concurrency },
    );
    worker.on("error", (e) => console.error(`bullmq: ${e.message}`));
    await worker.waitUntilReady();
    return {
      settings: `Queue.add per message, removeOnComplete; Worker concurrency ${BULLMQ.concurrency}`,
      enqueue: async (i) => {
        await queue.add("deliver", packetFor(ctx.workload, i));
      },
      stop: async () => {
        await worker.close();
        await queue.obliterate({ force: true });
        await queue.close();
      },
    };
  },
};
