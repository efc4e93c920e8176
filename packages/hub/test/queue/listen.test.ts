import { createTestDatabase, type TestDatabase } from "@openlines/store/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createQueue } from "../../src/queue/index.js";
import { box, openHubDatabase } from "./helpers.js";

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
