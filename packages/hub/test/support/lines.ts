import type { Insertable, Kysely } from "kysely";
import { newLineColumns } from "../../src/lines/repository.js";
import type { HubDatabase, LineConnectorTable } from "../../src/store/schema.js";

/** What a test names of a line connector row; the rest defaults to an active line with an empty queue. */
export type LineFixture = Pick<LineConnectorTable, "id" | "portal_id" | "line_id" | "connector" | "hash"> &
  Partial<Insertable<LineConnectorTable>>;

/**
 * Writes a line connector row directly, for tests that need a fixed id or hash, or a line that is
 * active without a platform to activate against (`lineRepository.create` makes a random, new one).
 */
export async function insertLine(
  db: Kysely<HubDatabase>,
  line: LineFixture,
  now = Date.now(),
): Promise<void> {
  await db
    .insertInto("line_connector")
    .values({ ...newLineColumns(now), status: "active", ...line })
    .execute();
}
