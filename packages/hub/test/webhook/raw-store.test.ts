import { systemClock } from "@openlines/protocol";
import { type Database, migrate, openDatabase } from "@openlines/store";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { WebhookRequest } from "../../src/connectors/contract.js";
import { hubMigrations } from "../../src/store/migrations.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { rawWebhooks } from "../../src/webhook/raw-store.js";

describeEachDialect("the raw webhook store", (ctx) => {
  let database: Database<HubDatabase>;
  beforeAll(async () => {
    database = openDatabase<HubDatabase>(ctx.url());
    await migrate(database.db, database.dialect, hubMigrations, "hub");
  });
  afterAll(async () => database?.close());

  const request = (ip: string | undefined): WebhookRequest => ({
    method: "POST",
    query: {},
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": "s3cret" },
    rawBody: Buffer.from('{"update_id":1}'),
    json: { update_id: 1 },
    ip: ip as string,
  });

  it("keeps a webhook whose client already left (no address) with an empty address", async () => {
    const raw = rawWebhooks({ db: database.db, dialect: database.dialect, clock: systemClock });
    const gone = await raw.insert("lc-1", request(undefined));
    const known = await raw.insert("lc-1", request("127.0.0.1"));
    const rows = await raw.select({ lineConnectorId: "lc-1", since: 0 });
    expect(rows.map((r) => [Number(r.seq), r.ip])).toEqual([
      [gone, ""],
      [known, "127.0.0.1"],
    ]);
    expect(rows[0].headers).not.toContain("s3cret");
  });
});
