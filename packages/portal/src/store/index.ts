import { type Database, migrate, type NumberedMigration } from "@openlines/store";

/**
 * The portal's tables are owned by its modules; each module keeps its own numbered, forward-only
 * migration list and bookkeeping table, so modules evolve independently in one database.
 * Add a module here: its table types to PortalDatabase, its migrations to `portalMigrations`.
 */
import { type CoreTables, coreMigrations } from "./core-schema.js";
import { type LinesTables, linesMigrations } from "./lines-schema.js";

export type PortalDatabase = CoreTables & LinesTables;

export const portalMigrations: Array<{ module: string; migrations: NumberedMigration[] }> = [
  { module: "portal_core", migrations: coreMigrations },
  { module: "portal_lines", migrations: linesMigrations },
];

export async function migratePortal(database: Database<PortalDatabase>): Promise<void> {
  for (const m of portalMigrations) await migrate(database.db, database.dialect, m.migrations, m.module);
}
