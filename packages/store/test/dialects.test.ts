import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Database, migrate, type NumberedMigration, openDatabase } from "../src/index.js";
import { describeEachDialect } from "../src/testing.js";

const migrations: NumberedMigration[] = [
  {
    name: "0001_note",
    up: async (db) => {
      await db.schema
        .createTable("note")
        .addColumn("id", "varchar(64)", (c) => c.primaryKey())
        .addColumn("body", "text", (c) => c.notNull())
        .addColumn("created_ms", "bigint", (c) => c.notNull())
        .execute();
    },
  },
];

describeEachDialect("store foundation", (ctx) => {
  let database: Database;
  beforeAll(async () => {
    database = openDatabase(ctx.url());
    await migrate(database.db, database.dialect, migrations, "test");
  });
  afterAll(async () => database?.close());

  it("runs migrations once and reports nothing new the second time", async () => {
    expect(await migrate(database.db, database.dialect, migrations, "test")).toEqual([]);
  });

  it("stores and reads back a row with a bigint time as a number", async () => {
    const now = 1_764_000_000_123;
    await database.db.insertInto("note").values({ id: "a", body: "héllo 👋", created_ms: now }).execute();
    const row = await database.db
      .selectFrom("note")
      .selectAll()
      .where("id", "=", "a")
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ id: "a", body: "héllo 👋", created_ms: now });
  });

  it("rolls back a failed transaction", async () => {
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto("note").values({ id: "b", body: "x", created_ms: 1 }).execute();
        await trx.insertInto("note").values({ id: "b", body: "dup", created_ms: 2 }).execute();
      }),
    ).rejects.toThrow();
    const count = await sql<{ n: number }>`select count(*) as n from note where id = 'b'`.execute(
      database.db,
    );
    expect(Number(count.rows[0]!.n)).toBe(0);
  });
});
