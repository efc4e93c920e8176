import { randomBytes } from "node:crypto";
import type { Selectable } from "kysely";
import type { LineConnectorTable } from "../store/schema.js";
import type { HubServices } from "./context.js";
import { upsert } from "./sql.js";

export type LineRow = Selectable<LineConnectorTable>;
export type LineStatusName = LineConnectorTable["status"];

/** The columns of a line connector row just created: bound to no account, new, with an empty queue. */
export function newLineColumns(now: number) {
  return {
    account_key: null,
    status: "new",
    status_reason: null,
    waiting: 0,
    attempts: 0,
    blocked_until: null,
    first_failure_ms: null,
    lease_owner: null,
    lease_until: null,
    created_ms: now,
    updated_ms: now,
  } as const;
}

/** Line connector rows and their sealed settings: one SQL operation per function. */
export function lineRepository(hub: Pick<HubServices, "db" | "dialect" | "box" | "clock">) {
  const { db, dialect, box, clock } = hub;
  return {
    byHash: (hash: string) =>
      db.selectFrom("line_connector").selectAll().where("hash", "=", hash).executeTakeFirst(),
    byId: (id: string) => db.selectFrom("line_connector").selectAll().where("id", "=", id).executeTakeFirst(),
    byRef: (portalId: string, lineId: string, connector: string) =>
      db
        .selectFrom("line_connector")
        .selectAll()
        .where("portal_id", "=", portalId)
        .where("line_id", "=", lineId)
        .where("connector", "=", connector)
        .executeTakeFirst(),
    byAccount: (accountKey: string) =>
      db.selectFrom("line_connector").selectAll().where("account_key", "=", accountKey).executeTakeFirst(),
    listForPortal(portalId: string, f: { line?: string; connector?: string } = {}) {
      let q = db.selectFrom("line_connector").selectAll().where("portal_id", "=", portalId);
      if (f.line) q = q.where("line_id", "=", f.line);
      if (f.connector) q = q.where("connector", "=", f.connector);
      return q.orderBy("created_ms").orderBy("id").execute();
    },
    listActive: () =>
      db.selectFrom("line_connector").selectAll().where("status", "=", "active").orderBy("id").execute(),
    /** Creates the row with a random id and a 192-bit random hash; returns it. */
    async create(portalId: string, lineId: string, connector: string): Promise<LineRow> {
      const now = clock.now();
      const row = {
        id: `lc_${randomBytes(12).toString("hex")}`,
        portal_id: portalId,
        line_id: lineId,
        connector,
        hash: randomBytes(24).toString("base64url"),
        ...newLineColumns(now),
      };
      await db.insertInto("line_connector").values(row).execute();
      return { ...row, served_ms: 0 };
    },
    async setStatus(id: string, status: LineStatusName, reason: string | null = null) {
      await db
        .updateTable("line_connector")
        .set({ status, status_reason: reason, updated_ms: clock.now() })
        .where("id", "=", id)
        .execute();
    },
    async saveSettings(id: string, settings: unknown) {
      const sealed = box.seal(JSON.stringify(settings));
      const now = clock.now();
      await upsert(
        dialect,
        db
          .insertInto("connector_settings")
          .values({ line_connector_id: id, settings_enc: sealed, updated_ms: now }),
        ["line_connector_id"],
        { settings_enc: sealed, updated_ms: now },
      );
    },
    /** When the settings last changed, without opening them: the cached connector is still good if equal. */
    async settingsUpdated(id: string): Promise<number | undefined> {
      const row = await db
        .selectFrom("connector_settings")
        .select("updated_ms")
        .where("line_connector_id", "=", id)
        .executeTakeFirst();
      return row ? Number(row.updated_ms) : undefined;
    },
    async loadSettings(id: string): Promise<{ settings: unknown; updated: number } | undefined> {
      const row = await db
        .selectFrom("connector_settings")
        .selectAll()
        .where("line_connector_id", "=", id)
        .executeTakeFirst();
      if (!row) return undefined;
      return { settings: JSON.parse(box.open(row.settings_enc)), updated: Number(row.updated_ms) };
    },
  };
}
export type LineRepository = ReturnType<typeof lineRepository>;
