import { randomBytes } from "node:crypto";
import { newLineColumns } from "@openlines/hub/lines/repository";
import { hubMigrations } from "@openlines/hub/store/migrations";
import type { HubDatabase } from "@openlines/hub/store/schema";
import { SecretBox } from "@openlines/hub/store/settings-crypto";
import { type DialectName, migrate, openDatabase } from "@openlines/store";
import { createTestDatabase } from "@openlines/store/testing";

/** A Telegram line connector seeded for the benchmark: where to post and the secret header. */
export interface SeededLine {
  id: string;
  portal: string;
  hash: string;
  secret: string;
}

export interface SeededHub {
  dialect: DialectName;
  url: string;
  /** OPENLINES_HUB_KEY of the hub processes: seals the settings and portal secrets below. */
  key: string;
  lines: SeededLine[];
  drop(): Promise<void>;
}

export interface SeedOptions {
  dialect: DialectName;
  /** Portal base URLs, one portal per entry (`portal-<i>`), all signing with `portalSecret`. */
  portals: string[];
  portalSecret: string;
  /** Line connectors, spread round-robin over the portals. */
  lines: number;
}

const BOT_TOKEN_TAIL = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

/**
 * A fresh hub database as a hub that has been running for a while would have it: migrated,
 * portals active, Telegram line connectors active with sealed settings and their webhook secret
 * (what `saveSettings` + `activate` store), all inserted in bulk. 10,000 lines take seconds this
 * way instead of 10,000 RPC round trips to a fake Bot API.
 */
export async function seedHub(o: SeedOptions): Promise<SeededHub> {
  const testDb = await createTestDatabase(o.dialect);
  const database = openDatabase<HubDatabase>(testDb.url);
  const key = randomBytes(32).toString("base64");
  try {
    await migrate(database.db, o.dialect, hubMigrations, "hub");
    const box = new SecretBox(key);
    const now = Date.now();
    await database.db
      .insertInto("portal")
      .values(
        o.portals.map((baseUrl, p) => ({
          id: `portal-${p}`,
          name: `Portal ${p}`,
          base_url: baseUrl,
          secret_enc: box.seal(o.portalSecret),
          state: "active" as const,
          created_ms: now,
          updated_ms: now,
        })),
      )
      .execute();
    const lines: SeededLine[] = Array.from({ length: o.lines }, (_, i) => ({
      id: `lc-${i}`,
      portal: `portal-${i % o.portals.length}`,
      hash: randomBytes(24).toString("base64url"),
      secret: randomBytes(32).toString("base64url"),
    }));
    const chunk = o.dialect === "sqlite" ? 500 : 1000;
    for (let k = 0; k < lines.length; k += chunk) {
      const part = lines.slice(k, k + chunk);
      await database.db.transaction().execute(async (tx) => {
        await tx
          .insertInto("line_connector")
          .values(
            part.map((l, j) => ({
              id: l.id,
              portal_id: l.portal,
              line_id: `line-${k + j}`,
              connector: "telegram",
              hash: l.hash,
              ...newLineColumns(now),
              status: "active" as const,
              account_key: `telegram:${8000000000 + k + j}`,
            })),
          )
          .execute();
        await tx
          .insertInto("connector_settings")
          .values(
            part.map((l, j) => ({
              line_connector_id: l.id,
              settings_enc: box.seal(
                JSON.stringify({ botToken: `${8000000000 + k + j}:${BOT_TOKEN_TAIL}`, allowGroups: false }),
              ),
              updated_ms: now,
            })),
          )
          .execute();
        await tx
          .insertInto("chat_context")
          .values(
            part.map((l) => ({
              line_connector_id: l.id,
              chat_id: "@webhook",
              connector: null,
              data: JSON.stringify({ secretToken: l.secret }),
              last_inbound_ms: null,
              updated_ms: now,
            })),
          )
          .execute();
      });
    }
    return { dialect: o.dialect, url: testDb.url, key, lines, drop: () => testDb.drop() };
  } catch (e) {
    await database.close().catch(() => {});
    await testDb.drop();
    throw e;
  } finally {
    await database.close().catch(() => {});
  }
}
