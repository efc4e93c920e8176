import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from "kysely";
import { createPool as createMysqlPool } from "mysql2";
import pg from "pg";
import { cachingStatements } from "./sqlite-statements.js";

/** The three SQL dialects every store runs on. */
export const Dialects = { sqlite: "sqlite", postgres: "postgres", mysql: "mysql" } as const;
export type DialectName = (typeof Dialects)[keyof typeof Dialects];

export interface DatabaseOptions {
  /** Connection pool size for PostgreSQL and MySQL. Default 10. */
  poolSize?: number;
}

/** An open database: the Kysely handle and which dialect it speaks. */
export interface Database<DB = any> {
  readonly db: Kysely<DB>;
  readonly dialect: DialectName;
  readonly url: string;
  /** For SQLite: the raw connection, for statements Kysely cannot batch. */
  readonly sqlite?: SQLite.Database;
  /** For PostgreSQL: the pool, so LISTEN/NOTIFY can take a dedicated connection. */
  readonly pgPool?: pg.Pool;
  close(): Promise<void>;
}

// int8 and numeric come back from pg as strings by default; our ids and times fit in a double.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

/** Which dialect a store URL names: `sqlite:./data/hub.db`, `postgres://…`, `mysql://…`. */
export function dialectOf(url: string): DialectName {
  if (url.startsWith("sqlite:")) return "sqlite";
  if (url.startsWith("postgres://") || url.startsWith("postgresql://")) return "postgres";
  if (url.startsWith("mysql://") || url.startsWith("mariadb://")) return "mysql";
  throw new Error(
    `Unsupported database URL "${url.replace(/\/\/[^@]*@/, "//***@")}": use sqlite:<file>, postgres://… or mysql://…`,
  );
}

/** Opens a database from one URL setting. The caller runs its own migrations. */
export function openDatabase<DB = any>(url: string, options: DatabaseOptions = {}): Database<DB> {
  const dialect = dialectOf(url);
  const poolSize = options.poolSize ?? 10;
  if (dialect === "sqlite") {
    const file = url.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (file !== ":memory:") mkdirSync(dirname(resolve(file)), { recursive: true });
    const sqlite = new SQLite(file);
    // WAL with synchronous=FULL: a committed transaction survives kill -9 and power loss.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = FULL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
    return { db, dialect, url, sqlite, close: () => db.destroy() };
  }
  if (dialect === "postgres") {
    const pgPool = new pg.Pool({ connectionString: url, max: poolSize });
    pgPool.on("error", () => {}); // a dropped idle client is replaced on next use
    // pg-pool listens for errors only on idle clients. A client checked out (held by a transaction
    // between statements, or a LISTEN client) whose backend is terminated emits 'error' with no
    // listener, which crashes the process (found by the fault test that cuts the connections). The
    // failing query still rejects, and a client that errored is discarded when it is released.
    pgPool.on("connect", (client) => client.on("error", () => {}));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: pgPool }) });
    return { db, dialect, url, pgPool, close: () => db.destroy() };
  }
  const pool = createMysqlPool({
    uri: url.replace(/^mariadb:/, "mysql:"),
    connectionLimit: poolSize,
    supportBigNumbers: true,
    bigNumberStrings: false,
    dateStrings: true,
  });
  const db = new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
  return { db, dialect, url, close: () => db.destroy() };
}
