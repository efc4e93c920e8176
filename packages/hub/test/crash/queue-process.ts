/**
 * A real hub queue process for the crash test: opens the database named by OL_DB_URL (already
 * migrated), starts the delivery worker, and accepts `POST /enqueue` with `{items: QueuedPacket[]}`,
 * answering 200 only after `enqueue` resolved (the packets are committed). Prints `READY <port>`.
 * The test kills it with SIGKILL at random moments; nothing here tries to shut down cleanly.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { openDatabase } from "@openlines/store";
import { createQueue, type QueuedPacket } from "../../src/queue/index.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { SecretBox } from "../../src/store/settings-crypto.js";

const database = openDatabase<HubDatabase>(process.env.OL_DB_URL as string, { poolSize: 5 });
const queue = createQueue({
  database,
  box: new SecretBox(process.env.OL_HUB_KEY as string),
  leaseMs: Number(process.env.OL_LEASE_MS ?? 1000),
  batchMaxPackets: 20,
  concurrency: 4,
  crossInstanceCheckMs: 0,
});

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    let items: QueuedPacket[];
    try {
      items = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { items: QueuedPacket[] }).items;
    } catch {
      res.writeHead(400).end();
      return;
    }
    queue.enqueue(items).then(
      () => res.writeHead(200).end("ok"),
      (e: Error) => res.writeHead(500).end(e.message),
    );
  });
});

queue.events.on("worker:error", (e) => console.error(`hub worker error (${e.where}):`, e.error));
queue.events.on("batch:failed", (e) => console.error(`hub batch failed: ${e.reason}`, e.error ?? ""));

await queue.start();
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`READY ${(server.address() as AddressInfo).port}\n`);
});
