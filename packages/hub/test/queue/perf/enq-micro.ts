/**
 * Micro-benchmark of the PostgreSQL enqueue statement alone (a tool, not a test): groups of 64
 * packets over 1,000 lines, one after another, through the prepared statement on the pool and
 * through Kysely (parsed and planned per call).
 *   npx tsx packages/hub/test/queue/perf/enq-micro.ts
 */
import { randomBytes } from "node:crypto";
import { migrate, openDatabase } from "@openlines/store";
import { createTestDatabase } from "@openlines/store/testing";
import { newLineColumns } from "../../../src/lines/repository.js";
import { pgEnqueue } from "../../../src/queue/sql.js";
import { hubMigrations } from "../../../src/store/migrations.js";
import type { HubDatabase } from "../../../src/store/schema.js";

const t = await createTestDatabase("postgres");
const d = openDatabase<HubDatabase>(t.url);
await migrate(d.db, "postgres", hubMigrations, "hub");
const now = Date.now();
await d.db
  .insertInto("portal")
  .values({
    id: "p",
    name: "p",
    base_url: "http://x",
    secret_enc: "x",
    state: "active",
    created_ms: now,
    updated_ms: now,
  })
  .execute();
for (let k = 0; k < 1000; k += 200)
  await d.db
    .insertInto("line_connector")
    .values(
      Array.from({ length: 200 }, (_, i) => ({
        id: `lc-${k + i}`,
        portal_id: "p",
        line_id: `l${k + i}`,
        connector: "telegram",
        hash: randomBytes(8).toString("hex"),
        ...newLineColumns(now),
        status: "active" as const,
        account_key: `a${k + i}`,
      })),
    )
    .execute();
const body = JSON.stringify({ x: "y".repeat(420) });
let n = 0;
const rows = () =>
  Array.from({ length: 64 }, () => {
    n++;
    return {
      id: `pk-${n}`,
      line_connector_id: `lc-${n % 1000}`,
      type: "messages",
      body,
      size: 430,
      created_ms: now,
    };
  });
async function bench(label: string, fn: () => Promise<unknown>) {
  const t0 = performance.now();
  for (let i = 0; i < 200; i++) await fn();
  console.log(label, ((performance.now() - t0) / 200).toFixed(2), "ms/group");
}
for (let round = 0; round < 2; round++) {
  await bench("kysely  ", () => pgEnqueue(d.db, rows(), now, "me"));
  await bench("prepared", () => pgEnqueue(d.pgPool ?? d.db, rows(), now, "me"));
}
await d.close();
await t.drop();
