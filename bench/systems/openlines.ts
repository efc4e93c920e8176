import { randomBytes } from "node:crypto";
import { newLineColumns } from "@openlines/hub/lines/repository";
import { hubMigrations } from "@openlines/hub/store/migrations";
import type { HubDatabase } from "@openlines/hub/store/schema";
import { SecretBox } from "@openlines/hub/store/settings-crypto";
import { type DialectName, migrate, openDatabase } from "@openlines/store";
import { createTestDatabase } from "@openlines/store/testing";
import type { RunContext, System } from "../support/harness.js";
import { QueryLog } from "../support/query-log.js";
import { lineCount, lineId, packetFor, portalId, portalOfLine } from "../support/workload.js";

/**
 * The openlines queue on a fresh database of `dialect`: portals and line connectors inserted as
 * rows, `enqueue` of one packet per call (the queue groups concurrent calls into one commit),
 * the delivery worker batching each line's packets into one signed request to the stub.
 * Queue options are the defaults unless BENCH_OL_CONCURRENCY / BENCH_OL_BATCH / BENCH_OL_LINGER are set.
 */
export function openlines(dialect: DialectName): System {
  return {
    system: "openlines",
    store: dialect,
    start: (ctx) => startOpenlines(dialect, ctx),
  };
}

const lineConnectorId = (line: number) => `lc-${line}`;

async function startOpenlines(dialect: DialectName, ctx: RunContext) {
  const testDb = await createTestDatabase(dialect);
  const opened = openDatabase<HubDatabase>(testDb.url);
  const queries = process.env.BENCH_QUERY_LOG === "1" ? new QueryLog() : undefined;
  const database = queries ? queries.wrap(opened) : opened;
  await migrate(database.db, dialect, hubMigrations, "hub");
  const box = new SecretBox(randomBytes(32).toString("base64"));
  const w = ctx.workload;
  const now = Date.now();
  const portals = Array.from({ length: w.portals }, (_, p) => ({
    id: portalId(p),
    name: `Portal ${p}`,
    base_url: ctx.portalUrl(p),
    secret_enc: box.seal(ctx.secret),
    state: "active" as const,
    created_ms: now,
    updated_ms: now,
  }));
  await database.db.insertInto("portal").values(portals).execute();
  const lines = Array.from({ length: lineCount(w) }, (_, line) => ({
    id: lineConnectorId(line),
    portal_id: portalId(portalOfLine(w, line)),
    line_id: lineId(line),
    connector: "telegram",
    hash: randomBytes(16).toString("hex"),
    ...newLineColumns(now),
    status: "active" as const,
    account_key: `telegram:bot${line}`,
  }));
  for (let k = 0; k < lines.length; k += 200) {
    await database.db
      .insertInto("line_connector")
      .values(lines.slice(k, k + 200))
      .execute();
  }
  const concurrency = process.env.BENCH_OL_CONCURRENCY ? Number(process.env.BENCH_OL_CONCURRENCY) : undefined;
  const batchMaxPackets = process.env.BENCH_OL_BATCH ? Number(process.env.BENCH_OL_BATCH) : undefined;
  const lingerMs = process.env.BENCH_OL_LINGER ? Number(process.env.BENCH_OL_LINGER) : undefined;
  // BENCH_OL_QUEUE_MODULE: try a patched copy of the queue (diagnostic, never for published figures).
  const patched = process.env.BENCH_OL_QUEUE_MODULE;
  const { createQueue }: typeof import("@openlines/hub/queue/index") = patched
    ? await import(patched)
    : await import("@openlines/hub/queue/index");
  const queue = createQueue({
    database,
    box,
    dispatcher: ctx.http.agent,
    concurrency,
    batchMaxPackets,
    lingerMs,
  });
  await queue.start();
  return {
    settings:
      `enqueue one packet per call; queue defaults` +
      (process.env.BENCH_OL_QUEUE_MODULE ? ` (PATCHED QUEUE ${process.env.BENCH_OL_QUEUE_MODULE})` : "") +
      (concurrency ? `, concurrency ${concurrency}` : "") +
      (batchMaxPackets ? `, batch ${batchMaxPackets}` : "") +
      (lingerMs !== undefined ? `, linger ${lingerMs} ms` : ""),
    enqueue: (i: number) =>
      queue.enqueue([{ lineConnectorId: lineConnectorId(i % lineCount(w)), packet: packetFor(w, i) }]),
    stop: async () => {
      await queue.stop();
      queries?.print();
      await opened.close();
      await testDb.drop();
    },
  };
}
