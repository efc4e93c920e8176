import type { Database, DialectName } from "@openlines/store";
import { type Kysely, sql, type Transaction } from "kysely";
import type { HubDatabase } from "../store/schema.js";

/**
 * The queue's database operations, one function each, the same statements on the three dialects
 * except where noted. Every write that changes the number of packets of a line updates
 * `line_connector.waiting` in the same transaction.
 */

type Db = Kysely<HubDatabase> | Transaction<HubDatabase>;

/** Rows per multi-row statement: far under every dialect's bound-parameter limit. */
const CHUNK = 500;

export const NOTIFY_CHANNEL = "openlines_queue";

/** PostgreSQL: the worker's own statements commit without waiting for the WAL flush (see below). */
const RELAXED_COMMIT_TEXT = "select set_config('synchronous_commit', 'off', true) as v";

export function chunks<T>(list: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function transient(e: unknown): boolean {
  const err = e as { code?: string; errno?: number };
  return (
    err?.code === "40P01" || // pg deadlock
    err?.code === "40001" || // pg serialization failure
    err?.errno === 1213 || // mysql deadlock
    err?.errno === 1205 || // mysql lock wait timeout
    err?.code === "SQLITE_BUSY"
  );
}

/**
 * PostgreSQL: fresh planner statistics for the queue's tables at start. Without them (a new
 * database, or a server with autovacuum off) the planner takes `line_connector` for a few rows and
 * scans all of it for every lookup by id, and reads a line's oldest packets with a bitmap scan
 * that visits every deleted packet of that line again on each claim, where an index scan stops at
 * the batch limit and marks dead entries as it passes. `line_connector` changes slowly; the
 * packet table's shape (packets per line) is what matters, and ANALYZE only samples it.
 */
export async function analyzeQueueTables(db: Kysely<HubDatabase>): Promise<void> {
  await sql`analyze line_connector, portal, packet`.execute(db);
}

/** Runs `fn` in a transaction, again (up to 5 times) when the database chose it as a deadlock victim. */
export async function inTransaction<T>(
  db: Kysely<HubDatabase>,
  fn: (trx: Transaction<HubDatabase>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (e) {
      if (attempt >= 5 || !transient(e)) throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}

/** Adds `n` to the count kept for `key`. */
function count<K>(counts: Map<K, number>, key: K, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

export interface PacketRow {
  id: string;
  line_connector_id: string;
  type: string;
  body: string;
  size: number;
  created_ms: number;
}

/** Which of these line connectors exist. */
export async function existingLines(db: Db, ids: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks(ids)) {
    const rows = await db.selectFrom("line_connector").select("id").where("id", "in", part).execute();
    for (const r of rows) found.add(r.id);
  }
  return found;
}

/**
 * Inserts packets, skipping ids already queued; returns how many were inserted per line.
 * PostgreSQL and SQLite: `ON CONFLICT DO NOTHING RETURNING`. MySQL has no RETURNING: `INSERT
 * IGNORE`, and when it inserted fewer rows than given (an id was already queued, which is rare),
 * the lines of that statement are recounted.
 */
export async function insertPackets(
  db: Db,
  dialect: DialectName,
  rows: PacketRow[],
): Promise<Map<string, number>> {
  const added = new Map<string, number>();
  const recount = new Set<string>();
  for (const part of chunks(rows)) {
    if (dialect === "mysql") {
      const res = await db.insertInto("packet").ignore().values(part).executeTakeFirst();
      for (const r of part) count(added, r.line_connector_id);
      if (Number(res.numInsertedOrUpdatedRows ?? 0) !== part.length) {
        for (const r of part) recount.add(r.line_connector_id);
      }
    } else {
      const inserted = await db
        .insertInto("packet")
        .values(part)
        .onConflict((oc) => oc.column("id").doNothing())
        .returning("line_connector_id")
        .execute();
      for (const r of inserted) count(added, r.line_connector_id);
    }
  }
  for (const line of recount) {
    const [row] = await db
      .selectFrom("packet")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("line_connector_id", "=", line)
      .execute();
    const before = await db
      .selectFrom("line_connector")
      .select("waiting")
      .where("id", "=", line)
      .executeTakeFirst();
    added.set(line, Number(row?.n ?? 0) - Number(before?.waiting ?? 0));
  }
  return added;
}

/**
 * Adds (or subtracts) to `waiting`. Lines that change by the same amount share one statement, so
 * a group of a thousand packets over a thousand lines costs one UPDATE, not a thousand.
 */
export async function addWaiting(db: Db, counts: Map<string, number>, now: number): Promise<void> {
  const byDelta = new Map<number, string[]>();
  for (const [line, n] of counts) {
    if (n === 0) continue;
    const list = byDelta.get(n) ?? [];
    list.push(line);
    byDelta.set(n, list);
  }
  for (const [n, lines] of byDelta) {
    for (const part of chunks(lines.sort())) {
      await db
        .updateTable("line_connector")
        .set({ waiting: sql`waiting + ${sql.lit(n)}`, updated_ms: now })
        .where("id", "in", part)
        .execute();
    }
  }
}

/** Tells other instances that the queue changed: NOTIFY on PostgreSQL, the counter row on MySQL. */
export async function signalChange(db: Db, dialect: DialectName, instanceId: string): Promise<void> {
  if (dialect === "postgres") {
    await sql`select pg_notify(${NOTIFY_CHANNEL}, ${instanceId})`.execute(db);
  } else if (dialect === "mysql") {
    await db.updateTable("queue_signal").set({ version: sql`version + 1` }).where("id", "=", 1).execute();
  }
  // SQLite: other processes see the commit itself through PRAGMA data_version.
}

export async function signalVersion(db: Db): Promise<number> {
  const row = await db.selectFrom("queue_signal").select("version").where("id", "=", 1).executeTakeFirst();
  return Number(row?.version ?? 0);
}

/** Most lines one claim takes (a portal with more ready lines gets the rest in the next claim). */
const CLAIM_MAX_LINES = 1000;

/**
 * The ready lines (packets waiting, not blocked, lease free or ours, portal not disabled, not in
 * `exclude`) of up to `portals` portals, in serving order: the portal whose line was least
 * recently served first, each portal's lines together, least recently served first.
 */
export async function readyLines(
  db: Db,
  now: number,
  me: string,
  exclude: string[],
  portals: number,
): Promise<string[]> {
  const ready = (q: ReturnType<typeof linesOf>) => {
    let r = q
      .where("l.waiting", ">", 0)
      .where((eb) => eb.or([eb("l.blocked_until", "is", null), eb("l.blocked_until", "<=", now)]))
      .where((eb) =>
        eb.or([eb("l.lease_until", "is", null), eb("l.lease_until", "<", now), eb("l.lease_owner", "=", me)]),
      );
    if (exclude.length > 0) r = r.where("l.id", "not in", exclude);
    return r;
  };
  const linesOf = (d: Db) =>
    d.selectFrom("line_connector as l").select(["l.id", "l.portal_id", "l.served_ms"]);
  const candidates = await ready(linesOf(db))
    .innerJoin("portal as p", "p.id", "l.portal_id")
    .where("p.state", "<>", "disabled")
    .orderBy("l.served_ms")
    .orderBy("l.id")
    .limit(portals * 4 + 4)
    .execute();
  // Candidates come in turn order: the first `portals` portals to appear are the ones served.
  const chosen = [...new Set(candidates.map((c) => c.portal_id))].slice(0, portals);
  if (chosen.length === 0) return [];
  const lines = await ready(linesOf(db)).where("l.portal_id", "in", chosen).execute();
  return byPortal(lines.map((l) => ({ ...l, served_ms: Number(l.served_ms) })))
    .slice(0, CLAIM_MAX_LINES)
    .map((l) => l.id);
}

export interface ClaimedLine {
  id: string;
  portal_id: string;
  line_id: string;
  connector: string;
  attempts: number;
  first_failure_ms: number | null;
  base_url: string;
  secret_enc: string;
  /** Packets queued for the line when it was claimed (SQLite and MySQL). */
  waiting?: number;
  /** The line's oldest packets, when the claim read them too. */
  packets?: BatchPacket[];
}

/**
 * Takes the lease of these lines with one conditional UPDATE: only a line that is still ready and
 * whose lease is free, expired, or already ours changes hands. Two instances racing for a line:
 * the database lets exactly one UPDATE match.
 */
export async function claimLines(
  db: Db,
  ids: string[],
  now: number,
  me: string,
  leaseMs: number,
): Promise<ClaimedLine[]> {
  if (ids.length === 0) return [];
  await db
    .updateTable("line_connector")
    .set({ lease_owner: me, lease_until: now + leaseMs })
    .where("id", "in", ids)
    .where("waiting", ">", 0)
    .where((eb) => eb.or([eb("blocked_until", "is", null), eb("blocked_until", "<=", now)]))
    .where((eb) =>
      eb.or([eb("lease_until", "is", null), eb("lease_until", "<", now), eb("lease_owner", "=", me)]),
    )
    .execute();
  const rows = await db
    .selectFrom("line_connector as l")
    .innerJoin("portal as p", "p.id", "l.portal_id")
    .select([
      "l.id",
      "l.portal_id",
      "l.line_id",
      "l.connector",
      "l.attempts",
      "l.first_failure_ms",
      "l.waiting",
      "p.base_url",
      "p.secret_enc",
    ])
    .where("l.id", "in", ids)
    .where("l.lease_owner", "=", me)
    .execute();
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows
    .map((r) => ({
      ...r,
      waiting: Number(r.waiting),
      attempts: Number(r.attempts),
      first_failure_ms: r.first_failure_ms === null ? null : Number(r.first_failure_ms),
    }))
    .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

export interface BatchPacket {
  seq: number;
  id: string;
  body: string;
  size: number;
}

/**
 * A line's packets in queue order, the line written as a range (`>=` and `<=`), not an equality:
 * with an equality the planner drops the line from `ORDER BY line_connector_id, seq` and may read
 * the whole table in `seq` order (the primary key), filtering by line, which it estimates cheap when
 * there are few lines; with a backlog that read every queued packet of the other lines (3.1 s per
 * claim with 1,000,000 queued). As a range only the `(line_connector_id, seq)` index gives the order.
 * PG_CLAIM's packet read is written the same way.
 */
function packetsInQueueOrder(db: Db, line: string) {
  return db
    .selectFrom("packet")
    .where("line_connector_id", ">=", line)
    .where("line_connector_id", "<=", line)
    .orderBy("line_connector_id")
    .orderBy("seq");
}

/** The oldest packets of a line, in queue order. */
export async function oldestPackets(db: Db, line: string, limit: number): Promise<BatchPacket[]> {
  const rows = await packetsInQueueOrder(db, line)
    .select(["seq", "id", "body", "size"])
    .limit(limit)
    .execute();
  return rows.map((r) => ({ seq: Number(r.seq), id: r.id, body: r.body, size: Number(r.size) }));
}

/**
 * Reads the oldest packets (up to `limit`) of each claimed line into `line.packets`, in the claim's
 * transaction. The lines with at most `limit` waiting are read together in one statement; only a
 * line with more (a backlog) costs a statement of its own, which stops at `limit`.
 */
export async function readBatches(db: Db, lines: ClaimedLine[], limit: number): Promise<void> {
  const byId = new Map(lines.map((l) => [l.id, l]));
  const few = lines.filter((l) => l.waiting !== undefined && l.waiting <= limit).map((l) => l.id);
  for (const part of chunks(few.sort())) {
    const rows = await db
      .selectFrom("packet")
      .select(["line_connector_id", "seq", "id", "body", "size"])
      .where("line_connector_id", "in", part)
      .orderBy("line_connector_id")
      .orderBy("seq")
      .execute();
    for (const r of rows) {
      const line = byId.get(r.line_connector_id);
      if (!line) continue;
      line.packets ??= [];
      if (line.packets.length < limit)
        line.packets.push({ seq: Number(r.seq), id: r.id, body: r.body, size: Number(r.size) });
    }
  }
  for (const line of lines) {
    if (line.waiting !== undefined && line.waiting > limit)
      line.packets = await oldestPackets(db, line.id, limit);
  }
}

/** Deletes these packets of one line and lowers its `waiting`; returns how many were still queued. */
export async function deletePackets(db: Db, line: string, ids: string[], now: number): Promise<number> {
  let n = 0;
  for (const part of chunks(ids)) {
    const res = await db
      .deleteFrom("packet")
      .where("line_connector_id", "=", line)
      .where("id", "in", part)
      .executeTakeFirst();
    n += Number(res.numDeletedRows ?? 0);
  }
  if (n > 0) await addWaiting(db, new Map([[line, -n]]), now);
  return n;
}

/**
 * A successful try: attempts reset, block lifted, lease released, line goes to the back of the
 * round. If another instance took the line over meanwhile (our lease ran out), nothing changes.
 * (A `taken` answer is settled by `settleTakenMany` / `pgSettleTakenMany`.)
 */
export async function settleSuccess(db: Db, line: string, me: string, now: number): Promise<void> {
  await db
    .updateTable("line_connector")
    .set({
      attempts: 0,
      blocked_until: null,
      first_failure_ms: null,
      lease_owner: null,
      lease_until: null,
      served_ms: now,
      updated_ms: now,
    })
    .where("id", "=", line)
    .where("lease_owner", "=", me)
    .execute();
}

/**
 * The line's `waiting` said it had packets but none was there: sets the count from its packet
 * rows and frees the line.
 */
export async function recountAndRelease(db: Db, line: string): Promise<void> {
  await db
    .updateTable("line_connector")
    .set({
      waiting: sql`(select count(*) from packet where line_connector_id = ${line})`,
      lease_owner: null,
      lease_until: null,
    })
    .where("id", "=", line)
    .execute();
}

/** A failed try: the line is blocked until `blockedUntil`, lease released. */
export async function settleFailure(
  db: Db,
  line: string,
  me: string,
  now: number,
  attempts: number,
  firstFailureMs: number,
  blockedUntil: number,
): Promise<void> {
  await db
    .updateTable("line_connector")
    .set({
      attempts,
      first_failure_ms: firstFailureMs,
      blocked_until: blockedUntil,
      lease_owner: null,
      lease_until: null,
      served_ms: now,
      updated_ms: now,
    })
    .where("id", "=", line)
    .where("lease_owner", "=", me)
    .execute();
}

export async function releaseLeases(db: Db, me: string, lines?: string[]): Promise<void> {
  let q = db
    .updateTable("line_connector")
    .set({ lease_owner: null, lease_until: null })
    .where("lease_owner", "=", me);
  if (lines) {
    if (lines.length === 0) return;
    q = q.where("id", "in", lines);
  }
  await q.execute();
}

export async function renewLeases(db: Db, me: string, lines: string[], until: number): Promise<void> {
  for (const part of chunks(lines)) {
    await db
      .updateTable("line_connector")
      .set({ lease_until: until })
      .where("lease_owner", "=", me)
      .where("id", "in", part)
      .execute();
  }
}

export async function markSent(db: Db, seqs: number[], sentMs: number | null): Promise<void> {
  for (const part of chunks(seqs)) {
    await db.updateTable("packet").set({ sent_ms: sentMs }).where("seq", "in", part).execute();
  }
}

/** How many of these packets are still queued, per line. */
export async function stillQueued(db: Db, seqs: number[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks(seqs)) {
    const rows = await db
      .selectFrom("packet")
      .select(["line_connector_id", (eb) => eb.fn.countAll<number>().as("n")])
      .where("seq", "in", part)
      .groupBy("line_connector_id")
      .execute();
    for (const r of rows) count(out, r.line_connector_id, Number(r.n));
  }
  return out;
}

/**
 * Moves every queued packet of a line to dead letters and lifts its block. The rows are read
 * first and deleted by `seq`, so a packet committed meanwhile is neither lost nor moved.
 */
export async function expireLine(db: Db, line: ClaimedLine, me: string, now: number, reason: string) {
  const ids: string[] = [];
  for (;;) {
    const rows = await packetsInQueueOrder(db, line.id)
      .select(["seq", "id", "type", "body", "created_ms"])
      .limit(CHUNK)
      .execute();
    if (rows.length === 0) break;
    await db
      .insertInto("dead_letter")
      .values(
        rows.map((r) => ({
          id: r.id,
          line_connector_id: line.id,
          portal_id: line.portal_id,
          line_id: line.line_id,
          connector: line.connector,
          type: r.type,
          body: r.body,
          created_ms: Number(r.created_ms),
          expired_ms: now,
          reason,
        })),
      )
      .execute();
    const res = await db
      .deleteFrom("packet")
      .where(
        "seq",
        "in",
        rows.map((r) => r.seq),
      )
      .executeTakeFirst();
    const n = Number(res.numDeletedRows ?? 0);
    if (n > 0) await addWaiting(db, new Map([[line.id, -n]]), now);
    for (const r of rows) ids.push(r.id);
  }
  await settleSuccess(db, line.id, me, now);
  return ids;
}

/** The earliest moment something may become ready: a block that ends, another instance's lease that lapses. */
export async function nextWake(db: Db, now: number, me: string): Promise<number | null> {
  const blocked = await db
    .selectFrom("line_connector")
    .select((eb) => eb.fn.min("blocked_until").as("t"))
    .where("waiting", ">", 0)
    .where("blocked_until", ">", now)
    .executeTakeFirst();
  const leased = await db
    .selectFrom("line_connector")
    .select((eb) => eb.fn.min("lease_until").as("t"))
    .where("waiting", ">", 0)
    .where("lease_until", ">=", now)
    .where("lease_owner", "<>", me)
    .executeTakeFirst();
  const times = [blocked?.t, leased?.t === null || leased?.t === undefined ? null : Number(leased.t) + 1]
    .filter((t) => t !== null && t !== undefined)
    .map(Number);
  return times.length ? Math.min(...times) : null;
}

/** The portal's `ack`: deletes its packets with these ids, per line; returns the count per line. */
export async function ackPackets(
  db: Db,
  portalId: string,
  ids: string[],
  now: number,
): Promise<Map<string, number>> {
  const byLine = new Map<string, string[]>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db
      .selectFrom("packet as k")
      .innerJoin("line_connector as l", "l.id", "k.line_connector_id")
      .select(["k.id", "k.line_connector_id"])
      .where("l.portal_id", "=", portalId)
      .where("k.id", "in", part)
      .execute();
    for (const r of rows) {
      const list = byLine.get(r.line_connector_id) ?? [];
      list.push(r.id);
      byLine.set(r.line_connector_id, list);
    }
  }
  const out = new Map<string, number>();
  for (const line of [...byLine.keys()].sort()) {
    const n = await deletePackets(db, line, byLine.get(line) ?? [], now);
    if (n > 0) out.set(line, n);
  }
  return out;
}

export interface DeadLetterRow {
  seq: number;
  id: string;
  line_connector_id: string;
  line_id: string;
  connector: string;
  type: string;
  body: string;
  created_ms: number;
  expired_ms: number;
  reason: string;
}

export async function listDeadLetters(
  db: Db,
  portalId: string,
  o: { lineId?: string; ids?: string[]; limit?: number },
): Promise<DeadLetterRow[]> {
  let q = db
    .selectFrom("dead_letter")
    .select([
      "seq",
      "id",
      "line_connector_id",
      "line_id",
      "connector",
      "type",
      "body",
      "created_ms",
      "expired_ms",
      "reason",
    ])
    .where("portal_id", "=", portalId);
  if (o.lineId !== undefined) q = q.where("line_id", "=", o.lineId);
  if (o.ids !== undefined) q = q.where("id", "in", o.ids.length ? o.ids : [""]);
  q = q.orderBy("seq");
  if (o.limit !== undefined) q = q.limit(o.limit);
  const rows = await q.execute();
  return rows.map((r) => ({
    ...r,
    seq: Number(r.seq),
    created_ms: Number(r.created_ms),
    expired_ms: Number(r.expired_ms),
  }));
}

export async function deleteDeadLetters(db: Db, seqs: number[]): Promise<void> {
  for (const part of chunks(seqs)) await db.deleteFrom("dead_letter").where("seq", "in", part).execute();
}

export async function countDeadLetters(db: Db, line: string): Promise<number> {
  const row = await db
    .selectFrom("dead_letter")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("line_connector_id", "=", line)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

// --- PostgreSQL fast paths: one statement (one round trip, one implicit transaction) each ---

/**
 * The hot PostgreSQL statements run as named prepared statements straight on the pool: the server
 * parses and plans each once per connection instead of once per call, and no query is compiled in
 * Node. Anything without a pool (never the case for `openDatabase`) goes through Kysely.
 */
async function pgPrepared<R>(db: PgTarget, name: string, text: string, values: unknown[]): Promise<R[]> {
  if ("query" in db) return (await db.query({ name, text, values })).rows as R[];
  let i = 0;
  const parts = text.split(/\$\d+/);
  const order = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]) - 1);
  const q = sql.join(
    parts.map((part, k) =>
      k < order.length ? sql`${sql.raw(part)}${values[order[i++] as number]}` : sql.raw(part),
    ),
    sql``,
  );
  return (await q.execute(db)).rows as R[];
}

/** A pg pool (prepared statements) or, without one, a Kysely handle. */
export type PgTarget =
  | { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }> }
  | Db;

/** Retries a single statement chosen as a deadlock victim. */
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= 5 || !transient(e)) throw e;
      await new Promise((r) => setImmediate(r));
    }
  }
}

const RECORD_SEPARATOR = "\u001e";

/**
 * PostgreSQL: a whole group in one statement. Inserts the packets in order (skipping ids already
 * queued), raises `waiting` of each line by what was inserted and sends the NOTIFY, all in the
 * statement's own transaction. If any line connector does not exist nothing is written and the
 * missing ids are returned, so the caller can refuse those callers and retry the rest (the usual
 * statement, PG_ENQUEUE_KNOWN, does not look for them; PG_ENQUEUE, which does, runs only then). The lines
 * are locked in id order, as the worker's settle does, so concurrent statements never deadlock.
 */
export async function pgEnqueue(
  db: PgTarget,
  rows: PacketRow[],
  now: number,
  instanceId: string,
): Promise<{ missing: string[] }> {
  const values = [
    rows.map((r) => r.id),
    rows.map((r) => r.line_connector_id),
    rows.map((r) => r.type),
    // JSON text never holds a raw control character (JSON.stringify escapes them), so the bodies
    // travel as one string split on U+001E: no per-element array quoting on either side.
    rows.map((r) => r.body).join(RECORD_SEPARATOR),
    rows.map((r) => r.size),
    rows.map((r) => r.created_ms),
    now,
    instanceId,
  ];
  try {
    await pgPrepared(db, "openlines_enqueue_known", PG_ENQUEUE_KNOWN, values);
    return { missing: [] };
  } catch (e) {
    if (!(e instanceof Error) || !e.message.includes(LINE_MISSING_MARK)) throw e;
  }
  const r = await pgPrepared<{ missing: string[] | null }>(db, "openlines_enqueue", PG_ENQUEUE, values);
  return { missing: r[0]?.missing ?? [] };
}

/**
 * The two enqueue statements share their rows, insert and line update; they differ in whether
 * missing lines are looked for first (`checked`) and in what they answer.
 */
function enqueueStatement(checked: boolean, answer: string): string {
  return `
    with input as (
      select * from unnest($1::text[], $2::text[], $3::text[], string_to_array($4::text, chr(30)), $5::int[], $6::int8[])
        with ordinality as u(id, lcid, type, body, size, created_ms, ord)
    ),${
      checked
        ? `
    missing as (
      select distinct lcid from input where not exists (select 1 from line_connector l where l.id = input.lcid)
    ),`
        : ""
    }
    ins as (
      insert into packet (id, line_connector_id, type, body, size, created_ms)
      select id, lcid, type, body, size, created_ms from input
      ${checked ? "where not exists (select 1 from missing) " : ""}order by ord
      on conflict (id) do nothing
      returning line_connector_id
    ),
    cnt as materialized (select line_connector_id, count(*)::int as n from ins group by line_connector_id),
    lk as (select id from line_connector where id = any($2::text[]) order by id for no key update),
    upd as (
      update line_connector l
      set waiting = l.waiting + coalesce((select cnt.n from cnt where cnt.line_connector_id = l.id), 0),
        updated_ms = $7::int8
      where l.id = any($2::text[]) and (select count(*) from lk) >= 0${checked ? " and not exists (select 1 from missing)" : ""}
      returning l.id
    )
    select ${answer}, pg_notify('${NOTIFY_CHANNEL}', $8::text)`;
}

const PG_ENQUEUE = enqueueStatement(
  true,
  "(select array_agg(lcid) from missing) as missing, (select count(*) from upd) as lines",
);

/**
 * The usual case, every line known: no check for missing lines up front. A line that is gone
 * makes the statement fail on purpose (LINE_MISSING_MARK cast to a number, at run time: the
 * cast is outside the CASE so the planner cannot fold it), which undoes it; the caller
 * then runs PG_ENQUEUE, which says which lines are missing.
 */
const LINE_MISSING_MARK = "openlines: a line connector of this group does not exist";
const PG_ENQUEUE_KNOWN = enqueueStatement(
  false,
  `cast(case when (select count(*) from upd) < (select count(distinct lcid) from input)
      then '${LINE_MISSING_MARK}' end as int) as failed`,
);

/**
 * The worker's own statements on PostgreSQL commit without waiting for the WAL flush
 * (`synchronous_commit = off` for that transaction only): a database crash may forget the last
 * few hundred milliseconds of claims and settles, which costs a redelivery, never a packet.
 * Enqueue keeps the server's setting.
 */

const PG_CLAIM = `
    with relaxed as (${RELAXED_COMMIT_TEXT}),
    -- The first candidates by turn, a bounded (top-N) sort; their portals, in the turn of their
    -- least recently served line, are the ones served now. Disabled portals are read once (an
    -- init plan), not joined: a join planned for "few ready lines" scanned the portal table once
    -- per line.
    candidate as (
      select c.portal_id, c.served_ms from line_connector c
      where c.waiting > 0
        and (c.blocked_until is null or c.blocked_until <= $3::int8)
        and (c.lease_until is null or c.lease_until < $3::int8 or c.lease_owner = $1::text)
        and c.portal_id <> all (array(select cp.id from portal cp where cp.state = 'disabled'))
        and not (c.id = any($4::text[]))
      order by c.served_ms, c.id collate "C"
      limit $5::int * 4 + 4
    ),
    turn as (
      select portal_id, min(served_ms) as t from candidate group by portal_id order by t, portal_id limit $5::int
    ),
    claimed as (
      update line_connector l set lease_owner = $1::text, lease_until = $2::int8
      from portal p
      where (select v from relaxed) = 'off' and p.id = l.portal_id and l.id in (
        -- Every ready line of those portals (found through the portal's unique key), locked
        -- skipping lines another instance is claiming at this moment: that instance serves them.
        select r.id from turn join line_connector r on r.portal_id = turn.portal_id
        where r.waiting > 0
          and (r.blocked_until is null or r.blocked_until <= $3::int8)
          and (r.lease_until is null or r.lease_until < $3::int8 or r.lease_owner = $1::text)
          and not (r.id = any($4::text[]))
        order by turn.t, r.portal_id, r.served_ms, r.id collate "C"
        limit ${CLAIM_MAX_LINES}
        for update of r skip locked
      )
      returning l.id, l.portal_id, l.line_id, l.connector, l.attempts, l.first_failure_ms, l.served_ms,
        p.base_url, p.secret_enc
    )
    select c.*, k.seq, k.id as pid, k.body, k.size
    from claimed c left join lateral (
      -- The line as a range, as in packetsInQueueOrder: an equality let the generic plan read
      -- the whole table in seq order.
      select seq, id, body, size from packet
      where line_connector_id >= c.id and line_connector_id <= c.id
      order by line_connector_id, seq limit $6::int
    ) k on true`;

/**
 * PostgreSQL: reads the ready lines of up to `portals` portals, claims them and reads each claimed
 * line's oldest packets (up to `batchMaxPackets`), all in one statement; rows another instance is
 * claiming at the same moment are skipped (`FOR UPDATE SKIP LOCKED`), never waited for. A line's
 * `packets` may come back empty when its packets were committed after the statement's snapshot;
 * the caller reads them then.
 */
export async function pgClaimReady(
  db: PgTarget,
  now: number,
  me: string,
  exclude: string[],
  portals: number,
  leaseMs: number,
  batchMaxPackets: number,
): Promise<ClaimedLine[]> {
  const rows = await pgPrepared<
    ClaimedLine & {
      served_ms: number;
      seq: number | null;
      pid: string | null;
      body: string | null;
      size: number | null;
    }
  >(db, "openlines_claim", PG_CLAIM, [me, now + leaseMs, now, exclude, portals, batchMaxPackets]);
  const lines = new Map<string, ClaimedLine & { served_ms: number }>();
  for (const row of rows) {
    let line = lines.get(row.id);
    if (!line) {
      line = {
        id: row.id,
        portal_id: row.portal_id,
        line_id: row.line_id,
        connector: row.connector,
        attempts: Number(row.attempts),
        first_failure_ms: row.first_failure_ms === null ? null : Number(row.first_failure_ms),
        base_url: row.base_url,
        secret_enc: row.secret_enc,
        served_ms: Number(row.served_ms),
        packets: [],
      };
      lines.set(row.id, line);
    }
    if (row.pid !== null && row.body !== null)
      line.packets?.push({ seq: Number(row.seq), id: row.pid, body: row.body, size: Number(row.size) });
  }
  for (const line of lines.values()) line.packets?.sort((a, b) => a.seq - b.seq);
  return byPortal([...lines.values()]);
}

/**
 * Ready or claimed lines in serving order: portal by portal, the portal whose line was least
 * recently served first, and within a portal its lines least recently served first.
 */
export function byPortal<L extends { id: string; portal_id: string; served_ms: number }>(
  lines: L[],
): Omit<L, "served_ms">[] {
  const inTurn = (a: L, b: L) => a.served_ms - b.served_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const turn = new Map<string, L>();
  for (const l of lines) {
    const first = turn.get(l.portal_id);
    if (!first || inTurn(l, first) < 0) turn.set(l.portal_id, l);
  }
  return [...lines]
    .sort((a, b) => {
      const ta = turn.get(a.portal_id) as L;
      const tb = turn.get(b.portal_id) as L;
      return ta === tb ? inTurn(a, b) : inTurn(ta, tb);
    })
    .map(({ served_ms: _, ...line }) => line);
}

// Every lookup is by key (`= any` on a primary key), never a join the planner may turn into a
// scan: a prepared statement keeps the plan it got when the queue's tables were small, and a scan
// of a packet table that has since grown costs milliseconds per settle.
const PG_SETTLE = `
    with relaxed as (${RELAXED_COMMIT_TEXT}),
    d as (
      delete from packet k where k.seq = any($1::int8[]) and k.line_connector_id = any($2::text[])
      returning k.line_connector_id
    ),
    c as (select line_connector_id as lc, count(*)::int as n from d group by line_connector_id),
    s as (select id from line_connector where id = any($2::text[]) order by id for no key update)
    update line_connector l set
      waiting = l.waiting - coalesce((select c.n from c where c.lc = l.id), 0),
      attempts = case when l.lease_owner = $3::text then 0 else l.attempts end,
      blocked_until = case when l.lease_owner = $3::text then null else l.blocked_until end,
      first_failure_ms = case when l.lease_owner = $3::text then null else l.first_failure_ms end,
      served_ms = case when l.lease_owner = $3::text then $4::int8 else l.served_ms end,
      lease_until = case when l.lease_owner = $3::text then null else l.lease_until end,
      lease_owner = case when l.lease_owner = $3::text then null else l.lease_owner end,
      updated_ms = $4::int8
    where l.id = any($2::text[]) and (select count(*) from s) >= 0 and (select v from relaxed) = 'off'
    returning l.id, coalesce((select c.n from c where c.lc = l.id), 0) as n`;

export interface TakenBatch {
  line: string;
  /** The queue positions (`seq`) of the packets the portal took: the primary key, a bigint. */
  seqs: number[];
  /** Their packet ids. */
  ids: string[];
}

/**
 * SQLite and MySQL: settles the `taken` answers of several lines in one worker transaction (one
 * commit instead of one per line), in a few statements whatever the number of lines: reads which
 * of the packets are still queued (MySQL: locking them), deletes those by `seq`, then one `UPDATE`
 * of the lines (MySQL locks them in primary-key order, as every writer that locks lines does):
 * each line's count lowered by what it lost and, where the lease is still ours, attempts reset,
 * block lifted, lease released, line moved to the back of the round. Returns the packets deleted
 * per batch, in the order given.
 */
export async function settleTakenMany(
  database: Database<HubDatabase>,
  batches: TakenBatch[],
  me: string,
  now: number,
): Promise<number[]> {
  const deleted = new Map<string, number>();
  await workerTransaction(database, async (trx) => {
    deleted.clear();
    const queued: number[] = [];
    for (const part of chunks(batches.flatMap((b) => b.seqs))) {
      let read = trx.selectFrom("packet").select(["seq", "line_connector_id"]).where("seq", "in", part);
      if (database.dialect === "mysql") read = read.forUpdate();
      for (const r of await read.execute()) {
        queued.push(Number(r.seq));
        count(deleted, r.line_connector_id);
      }
    }
    for (const part of chunks(queued)) await trx.deleteFrom("packet").where("seq", "in", part).execute();
    const lines = [...new Set(batches.map((b) => b.line))].sort();
    // A column's new value where the lease is still ours, its old one elsewhere.
    const ours = <T>(then: T, column: string) =>
      sql<T>`case when lease_owner = ${me} then ${then} else ${sql.ref(column)} end`;
    for (const part of chunks(lines)) {
      const lost = part.filter((l) => deleted.has(l));
      await trx
        .updateTable("line_connector")
        .set({
          // MySQL assigns left to right, each seeing the ones before: the lease goes last.
          waiting: lost.length
            ? sql`waiting - case id ${sql.join(
                lost.map((l) => sql`when ${l} then ${sql.lit(deleted.get(l) ?? 0)}`),
                sql` `,
              )} else 0 end`
            : sql`waiting`,
          attempts: ours<number>(0, "attempts"),
          blocked_until: ours<number | null>(null, "blocked_until"),
          first_failure_ms: ours<number | null>(null, "first_failure_ms"),
          served_ms: ours<number>(now, "served_ms"),
          updated_ms: now,
          lease_until: ours<number | null>(null, "lease_until"),
          lease_owner: ours<string | null>(null, "lease_owner"),
        })
        .where("id", "in", part)
        .execute();
    }
  });
  return batches.map((b) => deleted.get(b.line) ?? 0);
}

/**
 * PostgreSQL: settles the `taken` answers of several lines in one statement: deletes their
 * packets, lowers each line's count, and, where the lease is still ours, resets attempts, lifts
 * the block, releases the lease and moves the line to the back of the round. The lines are locked
 * in id order (as enqueue does) so concurrent statements never deadlock. Returns the number of
 * packets deleted per batch, in the order given.
 */
export async function pgSettleTakenMany(
  db: PgTarget,
  batches: TakenBatch[],
  me: string,
  now: number,
): Promise<number[]> {
  const lines = [...new Set(batches.map((b) => b.line))].sort();
  const rows = await pgPrepared<{ id: string; n: number }>(db, "openlines_settle", PG_SETTLE, [
    batches.flatMap((b) => b.seqs),
    lines,
    me,
    now,
  ]);
  const deleted = new Map(rows.map((row) => [row.id, Number(row.n)]));
  // A line settled twice in one statement cannot happen (one batch in flight per line), but the
  // count is the line's either way.
  return batches.map((b) => deleted.get(b.line) ?? 0);
}

/**
 * A transaction of the worker whose loss costs at most a redelivery: claiming lines, settling a
 * delivered batch. On SQLite it commits with `synchronous = NORMAL`: in WAL mode the commit is
 * still written to the log before it returns, so it survives kill -9; only an OS crash or power
 * loss may undo it, and then the packets are simply sent again. That saves an fsync per batch.
 * Enqueue keeps `synchronous = FULL`: a stored packet is never lost. Elsewhere: a plain transaction.
 */
export async function workerTransaction<T>(
  database: Database<HubDatabase>,
  fn: (trx: Transaction<HubDatabase>) => Promise<T>,
): Promise<T> {
  if (database.dialect !== "sqlite") return inTransaction(database.db, fn);
  return database.db.connection().execute(async (conn) => {
    await sql`pragma synchronous = NORMAL`.execute(conn);
    try {
      return await inTransaction(conn, fn);
    } finally {
      await sql`pragma synchronous = FULL`.execute(conn);
    }
  });
}
