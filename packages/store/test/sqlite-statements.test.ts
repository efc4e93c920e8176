import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Database, openDatabase } from "../src/index.js";

describe("SQLite statements", () => {
  let dir: string;
  let database: Database;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "openlines-sqlite-"));
    database = openDatabase(`sqlite:${join(dir, "store.db")}`);
    await sql`create table note (id integer primary key, body text not null)`.execute(database.db);
  });
  afterAll(async () => {
    await database?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prepares a statement once and runs it again from its prepared form", async () => {
    const prepare = vi.spyOn(database.sqlite as NonNullable<Database["sqlite"]>, "prepare");
    try {
      for (let k = 0; k < 10; k++) {
        await database.db
          .insertInto("note" as never)
          .values({ body: `n${k}` } as never)
          .execute();
      }
      expect(prepare).toHaveBeenCalledTimes(1);
    } finally {
      prepare.mockRestore();
    }
  });

  it("runs a statement again from its prepared form, and still runs every statement once more are kept than fit", async () => {
    const { db } = database;
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 300; k++) {
        // 300 different statement texts: more than the cache keeps, so the oldest are evicted.
        const r = await sql<{ v: number }>`select ${sql.lit(k)} + ${round} as v`.execute(db);
        expect(Number(r.rows[0]?.v)).toBe(k + round);
      }
    }
  });
});
