import { createTestDatabase, type TestDatabase, testDialects, testServers } from "@openlines/store/testing";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { pollUntil } from "../queue/helpers.js";
import { duplicates, startFaultRig } from "./rig.js";

/**
 * The hub's database connections are cut from another connection while packets are enqueued and
 * delivered (PostgreSQL: `pg_terminate_backend` of every backend on the hub's database; MariaDB:
 * `KILL` of each of its connections), five times, then they come back. Enqueues that were answered
 * (committed) must all reach the real portal, which drops the redelivered duplicates; the queue
 * recovers by itself. SQLite has no connection to cut (its crash cases are the SIGKILL tests).
 */
const CUTS = 5;

async function cutConnections(test: TestDatabase): Promise<number> {
  const name = new URL(test.url).pathname.slice(1);
  if (test.dialect === "postgres") {
    const c = new pg.Client({ connectionString: testServers.postgres });
    await c.connect();
    try {
      const r = await c.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [name],
      );
      return r.rowCount ?? 0;
    } finally {
      await c.end();
    }
  }
  const c = await mysql.createConnection(testServers.mysql);
  try {
    const [rows] = await c.query(
      "SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()",
      [name],
    );
    let n = 0;
    for (const { id } of rows as { id: number }[]) {
      await c.query(`KILL ${Number(id)}`).then(
        () => n++,
        () => {}, // already gone
      );
    }
    return n;
  } finally {
    await c.end();
  }
}

describe("queue faults in the database", () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  for (const dialect of testDialects().filter((d) => d !== "sqlite")) {
    it(`recovers after its connections are cut ${CUTS} times while packets flow, losing nothing acknowledged [${dialect}]`, async () => {
      const hubDb = await createTestDatabase(dialect);
      const portalDb = await createTestDatabase(dialect);
      dbs.push(hubDb, portalDb);
      const rig = await startFaultRig(hubDb.url, { portalUrl: portalDb.url });
      try {
        const q = rig.queue({ batchMaxPackets: 20 });
        let workerErrors = 0;
        q.events.on("worker:error", () => workerErrors++);
        const lines = [await rig.line("a"), await rig.line("b"), await rig.line("c")];
        await q.start();
        const acknowledged = new Set<string>();
        let refused = 0;
        let sending = true;
        const sender = async (k: number) => {
          let i = 0;
          while (sending) {
            const lc = lines[(k + i++) % lines.length] as string;
            const line = lc === lines[0] ? "a" : lc === lines[1] ? "b" : "c";
            const batch = Array.from({ length: 5 }, () => rig.packet(lc, line));
            try {
              await q.enqueue(batch);
              for (const b of batch) acknowledged.add(b.packet.id);
            } catch {
              refused++;
              await new Promise((r) => setTimeout(r, 20));
            }
          }
        };
        const senders = [sender(0), sender(1), sender(2)];
        let cut = 0;
        for (let k = 0; k < CUTS; k++) {
          await new Promise((r) => setTimeout(r, 250));
          cut += await cutConnections(hubDb);
        }
        await new Promise((r) => setTimeout(r, 250));
        sending = false;
        await Promise.all(senders);
        await pollUntil(async () => {
          const taken = await rig.takenIds();
          for (const id of acknowledged) if (!taken.has(id)) return false;
          return true;
        }, 30_000);
        const counts = await rig.portalCounts();
        console.log(
          `database cut [${dialect}]: ${CUTS} cuts (${cut} connections ended), ${acknowledged.size} packets acknowledged, ` +
            `${refused} enqueues refused, ${workerErrors} worker errors, ${counts.messages} messages at the portal, ` +
            `${duplicates(rig.forwarded)} duplicates delivered and dropped by the portal`,
        );
        expect(cut).toBeGreaterThan(0);
        expect(acknowledged.size).toBeGreaterThan(50);
        // Every acknowledged packet is one message; refused enqueues may or may not have committed.
        expect(counts.messages).toBeGreaterThanOrEqual(acknowledged.size);
        expect(counts.messages).toBe(counts.taken);
        // And the queue still works: a packet enqueued now goes straight through.
        const after = rig.packet(lines[0] as string, "a");
        await q.enqueue([after]);
        await pollUntil(async () => (await rig.takenIds()).has(after.packet.id), 10_000);
      } finally {
        await rig.close();
      }
    }, 60_000);
  }
});
