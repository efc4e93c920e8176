import type SQLite from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

/** Statements kept prepared per database; past this many, the least recently used goes. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The SQLite database as Kysely sees it, with its statements kept prepared by SQL text: Kysely's
 * SQLite driver prepares every statement anew on each run, which costs about as much as running a
 * small one (5% of the hub's main thread in the queue bench, docs/performance.md).
 */
export function cachingStatements(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) cache.delete(text);
      else {
        stmt = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(text, stmt); // most recently used last
      return stmt;
    },
  };
}
