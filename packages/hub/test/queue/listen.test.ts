import { createTestDatabase, type TestDatabase } from "@openlines/store/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueue } from "../../src/queue/index.js";
import { box, CountingClock, openHubDatabase } from "./helpers.js";

// PostgreSQL only: LISTEN/NOTIFY is how instances wake each other there.
describe("the PostgreSQL wake-up client", () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase("postgres");
  });
  afterAll(async () => testDb?.drop());

  it("goes back to the pool once at stop, so a later error on that connection does not crash the process", async () => {
    const database = await openHubDatabase(testDb.url);
    const crashes: unknown[] = [];
    const onUncaught = (e: unknown) => crashes.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      const queue = createQueue({ database, box, crossInstanceCheckMs: 0 });
      await queue.start();
      await queue.stop();
      // Cut every connection of this database (the released LISTEN client among them).
      const admin = new pg.Client({ connectionString: testDb.url });
      await admin.connect();
      await admin.query(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
      );
      await admin.end();
      await new Promise((r) => setTimeout(r, 300));
      expect(crashes).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
      await database.close().catch(() => {});
    }
  });
});

describe("the cross-instance check without NOTIFY", () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase("sqlite");
  });
  afterAll(async () => testDb?.drop());

  it("runs one read at a time, even when the clock jumps a day ahead", async () => {
    const database = await openHubDatabase(testDb.url);
    const sqlite = database.sqlite!;
    let reads = 0;
    const pragma = sqlite.pragma.bind(sqlite);
    sqlite.pragma = ((source: string, options?: { simple?: boolean }) => {
      if (source === "data_version") reads++;
      return pragma(source, options);
    }) as typeof sqlite.pragma;
    const clock = new CountingClock();
    const queue = createQueue({ database, box, clock, crossInstanceCheckMs: 1000 });
    try {
      await queue.start();
      const before = reads;
      clock.advance(24 * 3600_000);
      // One check ran; the next is armed when it has finished, not 86,400 of them at once.
      expect(reads - before).toBe(1);
      await new Promise((r) => setImmediate(r));
      clock.advance(1000);
      expect(reads - before).toBe(2);
    } finally {
      await queue.stop();
      await database.close();
    }
  });
});
