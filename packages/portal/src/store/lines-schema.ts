import type { NumberedMigration } from "@openlines/store";

/** Tables of lines, operators, sessions and accounts. */
// biome-ignore lint/complexity/noBannedTypes: filled as the lines module lands
export type LinesTables = {};
export const linesMigrations: NumberedMigration[] = [];
