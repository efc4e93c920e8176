import type { NumberedMigration } from "@openlines/store";

/** Tables of input, contacts, files and messages. */
// biome-ignore lint/complexity/noBannedTypes: filled as the core modules land
export type CoreTables = {};
export const coreMigrations: NumberedMigration[] = [];
