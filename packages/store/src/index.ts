export {
  type Database,
  type DatabaseOptions,
  type DialectName,
  Dialects,
  dialectOf,
  openDatabase,
} from "./database.js";
export { migrate, type NumberedMigration } from "./migrations.js";
