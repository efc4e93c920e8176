import type { Database } from "@openlines/store";
import { cachingStatements } from "@openlines/store/sqlite-statements";
import { Kysely, type LogEvent, PostgresDialect, SqliteDialect } from "kysely";

/**
 * Diagnostic (BENCH_QUERY_LOG=1): a second Kysely over the same connection that times every
 * statement, and prints the statements by total time when the run stops. SQLite and PostgreSQL
 * only (the MySQL pool is not exposed by openDatabase). Costs some speed: never on a measured run.
 */
export class QueryLog {
  readonly #stats = new Map<string, { n: number; ms: number }>();

  wrap<DB>(database: Database<DB>): Database<DB> {
    const log = (e: LogEvent) => {
      const key = e.query.sql.replace(/\$\d+|\?/g, "?").replace(/(\?, )+\?/g, "?…");
      const s = this.#stats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += e.queryDurationMillis;
      this.#stats.set(key, s);
    };
    const dialect = database.sqlite
      ? new SqliteDialect({ database: cachingStatements(database.sqlite) })
      : database.pgPool
        ? new PostgresDialect({ pool: database.pgPool })
        : undefined;
    if (!dialect) return database;
    return { ...database, db: new Kysely<DB>({ dialect, log }) };
  }

  print(top = 15): void {
    const rows = [...this.#stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
    console.error("  statements by total time (ms, count, ms each):");
    for (const [q, s] of rows) {
      console.error(
        `  ${s.ms.toFixed(0).padStart(7)} ${String(s.n).padStart(7)} ${(s.ms / s.n).toFixed(2).padStart(7)}  ${q.slice(0, 150)}`,
      );
    }
  }
}
