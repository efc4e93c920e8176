import type { DialectName } from "@openlines/store";
import type { InsertQueryBuilder, InsertResult } from "kysely";

/**
 * Insert that skips a row whose key exists, on all three dialects; resolves to the number of rows
 * inserted (0 = it was there).
 */
export async function insertIgnore(
  dialect: DialectName,
  q: InsertQueryBuilder<any, any, InsertResult>,
): Promise<number> {
  const r =
    dialect === "mysql"
      ? await q.ignore().executeTakeFirst()
      : await q.onConflict((oc) => oc.doNothing()).executeTakeFirst();
  return Number(r?.numInsertedOrUpdatedRows ?? 0);
}

/** Insert or update by key on all three dialects. */
export async function upsert(
  dialect: DialectName,
  q: InsertQueryBuilder<any, any, InsertResult>,
  keys: string[],
  update: Record<string, unknown>,
): Promise<void> {
  if (dialect === "mysql") await q.onDuplicateKeyUpdate(update).execute();
  else await q.onConflict((oc) => oc.columns(keys as any).doUpdateSet(update)).execute();
}
