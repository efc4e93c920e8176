import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, beforeAll, describe } from "vitest";
import type { DialectName } from "./database.js";

/**
 * Test helper: hands each suite a fresh, empty database of each dialect.
 * SQLite lives in a temp dir; PostgreSQL and MariaDB get a database of their own on the local
 * servers, so parallel runs never collide. A server that cannot be reached fails the test, never
 * skips it: set OPENLINES_TEST_DIALECTS=sqlite to run without them on purpose.
 */
export const testServers = {
  postgres: process.env.OPENLINES_TEST_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/test",
  mysql: process.env.OPENLINES_TEST_MYSQL ?? "mysql://root@127.0.0.1:3306/test",
};

export function testDialects(): DialectName[] {
  const raw = process.env.OPENLINES_TEST_DIALECTS ?? "sqlite,postgres,mysql";
  return raw.split(",").map((s) => s.trim()) as DialectName[];
}

export interface TestDatabase {
  url: string;
  dialect: DialectName;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates a fresh empty database of the given dialect and returns its URL. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const name = `ol_t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "openlines-test-"));
    return {
      url: `sqlite:${join(dir, "test.db")}`,
      dialect,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (dialect === "postgres") {
    const admin = new pg.Client({ connectionString: testServers.postgres });
    try {
      await admin.connect();
    } catch (e) {
      throw new Error(
        `PostgreSQL test server unreachable at ${testServers.postgres}: ${(e as Error).message}`,
      );
    }
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return {
      url: withDatabase(testServers.postgres, name),
      dialect,
      drop: async () => {
        const c = new pg.Client({ connectionString: testServers.postgres });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(testServers.mysql);
  } catch (e) {
    throw new Error(`MySQL/MariaDB test server unreachable at ${testServers.mysql}: ${(e as Error).message}`);
  }
  await conn.query(`CREATE DATABASE ${name}`);
  await conn.end();
  return {
    url: withDatabase(testServers.mysql, name),
    dialect,
    drop: async () => {
      const c = await mysql.createConnection(testServers.mysql);
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

export interface DialectContext {
  dialect: DialectName;
  /** The URL of this suite's fresh database; valid inside tests and hooks. */
  url(): string;
}

/**
 * Runs the same suite once per dialect (Kysely's habit): a `describe` per dialect, with a fresh
 * database created before the suite and dropped after it.
 */
export function describeEachDialect(title: string, body: (ctx: DialectContext) => void): void {
  for (const dialect of testDialects()) {
    describe(`${title} [${dialect}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(dialect);
      });
      afterAll(async () => {
        await database?.drop();
      });
      body({
        dialect,
        url: () => {
          if (!database) throw new Error(`no ${dialect} test database: its creation failed`);
          return database.url;
        },
      });
    });
  }
}
