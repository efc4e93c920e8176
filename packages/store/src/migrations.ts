import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";

/**
 * A numbered, forward-only migration. `name` sorts in order of application: "0001_queue".
 * Migrations receive the dialect so the rare statement Kysely cannot express portably can branch.
 */
export interface NumberedMigration {
  name: string;
  up(db: Kysely<any>, dialect: "sqlite" | "postgres" | "mysql"): Promise<void>;
}

class InCodeProvider implements MigrationProvider {
  constructor(
    private readonly migrations: readonly NumberedMigration[],
    private readonly dialect: "sqlite" | "postgres" | "mysql",
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const m of this.migrations) out[m.name] = { up: (db) => m.up(db, this.dialect) };
    return out;
  }
}

/**
 * Applies every migration not yet applied, in name order, at start. Each service keeps its own
 * bookkeeping table so the hub and the portal can share one database.
 */
export async function migrate(
  db: Kysely<any>,
  dialect: "sqlite" | "postgres" | "mysql",
  migrations: readonly NumberedMigration[],
  tablePrefix: string,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeProvider(migrations, dialect),
    migrationTableName: `${tablePrefix}_migration`,
    migrationLockTableName: `${tablePrefix}_migration_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error(`Database migration failed: ${(error as Error).message}`, { cause: error });
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
