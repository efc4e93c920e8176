import { type Packet, Packet as PacketSchema } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { PortalContext } from "../context.js";
import {
  type AfterCommit,
  takeDeliveryStatus,
  takeMessage,
  takeReadStatus,
  takeTyping,
} from "../messages/inbound.js";
import type { PortalDatabase } from "../store/index.js";

type Db = Kysely<PortalDatabase>;

/** A packet of a delivery, checked: its id, and either the parsed packet or why it was rejected. */
interface Checked {
  id: string;
  /** The line the packet names: a failure stops the rest of that line only. */
  line: string;
  packet?: Packet;
  rejected?: { reason: string; line: string; connector: string; type: string };
}

/**
 * Takes the packets of one delivery exactly once, in order, and returns the ids now committed.
 *
 * Each packet's `taken_packet` row is written in the same transaction as its effects, so a
 * duplicate (a redelivery, or the same packet racing in on another connection) either finds the
 * row or fails on its primary key and rolls back everything it did. A packet that does not match
 * the schema is recorded as `rejected` and still counted as taken: the hub would otherwise
 * redeliver it until it expires. A packet whose effects cannot be committed is not taken, nor are
 * the packets of its line after it (order within a chat), so the hub delivers them again; a
 * delivery carrying several lines goes on with the other lines.
 *
 * Trade-off: the packets of a delivery are first tried in **one** transaction per chunk — one
 * commit (one fsync) for up to `chunk` packets instead of one per packet, which is most of the
 * cost of taking a packet. If that transaction fails for any reason, it rolled back entirely and
 * the chunk is taken again packet by packet, each in its own transaction with a few retries
 * (collisions on a new contact or chat between two concurrent deliveries end there).
 */
export async function takePackets(ctx: PortalContext, raws: unknown[], chunk = 200): Promise<string[]> {
  const checked: Checked[] = [];
  // Lines that stopped at a packet that could not be taken: their later packets wait for it.
  const stopped = new Set<string>();
  for (const raw of raws) {
    const c = check(ctx, raw);
    if (typeof c === "string") stopped.add(c);
    else if (!c)
      break; // no id and no line: nothing after it can be told safe to take
    else if (!stopped.has(c.line)) checked.push(c);
  }
  const taken: string[] = [];
  for (let i = 0; i < checked.length; i += chunk) {
    const part = checked.slice(i, i + chunk).filter((c) => !stopped.has(c.line));
    let after: AfterCommit | undefined;
    if (part.length > 1) {
      try {
        after = await ctx.database.db.transaction().execute(async (trx) => {
          const all: AfterCommit = [];
          for (const c of part) all.push(...(await apply(ctx, trx, c)));
          return all;
        });
      } catch (e) {
        ctx.log.info(
          { err: e, packets: part.length },
          "batch transaction failed; taking its packets one by one",
        );
      }
    }
    if (after) {
      await runAfter(ctx, after);
      taken.push(...part.map((c) => c.id));
      continue;
    }
    for (const c of part) {
      if (stopped.has(c.line)) continue;
      try {
        await takeOne(ctx, c);
        taken.push(c.id);
      } catch (e) {
        ctx.log.error({ err: e, packet: c.id }, "packet not taken; the hub will deliver it again");
        stopped.add(c.line);
      }
    }
  }
  return taken;
}

/** The checked packet; without an id, the line it names (its later packets must wait), if any. */
function check(ctx: PortalContext, raw: unknown): Checked | string | undefined {
  const envelope = (raw ?? {}) as Record<string, unknown>;
  const id =
    typeof envelope.id === "string" && envelope.id.length > 0 && envelope.id.length <= 256
      ? envelope.id
      : undefined;
  const line = typeof envelope.line === "string" ? envelope.line : undefined;
  if (!id) {
    ctx.log.warn("packet without an id; cannot be taken");
    return line;
  }
  const parsed = PacketSchema.safeParse(raw);
  if (parsed.success) return { id, line: line ?? "", packet: parsed.data };
  const reason = parsed.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join(".")}: ${i.message}`)
    .join("; ");
  ctx.log.warn({ packet: id, reason }, "packet rejected: it does not match the exchange format");
  const str = (v: unknown, max: number) => (typeof v === "string" ? v.slice(0, max) : "");
  return {
    id,
    line: line ?? "",
    rejected: {
      reason: reason.slice(0, 4000),
      line: str(envelope.line, 255),
      connector: str(envelope.connector, 64),
      type: str(envelope.type, 32),
    },
  };
}

/** One packet in its own transaction, run again on a collision. */
async function takeOne(ctx: PortalContext, c: Checked): Promise<void> {
  const db = ctx.database.db;
  for (let attempt = 1; ; attempt++) {
    try {
      const after = await db.transaction().execute((trx) => apply(ctx, trx, c));
      await runAfter(ctx, after);
      return;
    } catch (e) {
      // The same packet committed by a concurrent delivery: it is taken.
      const taken = await db
        .selectFrom("taken_packet")
        .select("id")
        .where("id", "=", c.id)
        .executeTakeFirst();
      if (taken) return;
      if (attempt >= 3) throw e;
      ctx.log.info({ packet: c.id, attempt, err: e }, "packet transaction collided; running it again");
    }
  }
}

/** Records the packet as taken (or rejected) and applies it, inside `trx`; [] when already taken. */
async function apply(ctx: PortalContext, trx: Db, c: Checked): Promise<AfterCommit> {
  const seen = await trx.selectFrom("taken_packet").select("id").where("id", "=", c.id).executeTakeFirst();
  if (seen) return [];
  const now = ctx.clock.now();
  const p = c.packet;
  await trx
    .insertInto("taken_packet")
    .values({
      id: c.id,
      line_id: p ? p.line : c.rejected!.line,
      connector: p ? p.connector : c.rejected!.connector,
      type: p ? p.type : c.rejected!.type,
      outcome: p ? "taken" : "rejected",
      reason: p ? null : c.rejected!.reason,
      taken_ms: now,
    })
    .execute();
  return p ? route(ctx, trx, p) : [];
}

async function runAfter(ctx: PortalContext, after: AfterCommit): Promise<void> {
  for (const fn of after) {
    try {
      await fn();
    } catch (e) {
      ctx.log.error({ err: e }, "after-commit work of a packet failed");
    }
  }
}

async function route(ctx: PortalContext, trx: Db, p: Packet): Promise<AfterCommit> {
  switch (p.type) {
    case "testConnection":
      return [
        () =>
          ctx.bus.emit("hub.testConnection", { lineId: p.line, connector: p.connector, nonce: p.data.nonce }),
      ];
    case "messages":
      return takeMessage(ctx, trx, p);
    case "deliveryStatus":
      return takeDeliveryStatus(ctx, trx, p.data);
    case "readStatus":
      return takeReadStatus(ctx, trx, p, p.data);
    case "typing":
      return takeTyping(ctx, trx, p, p.data);
    case "deactivate": {
      const row = {
        status: "deactivated" as const,
        reason: p.data.reason,
        message: p.data.message,
        updated_ms: ctx.clock.now(),
      };
      const done = await trx
        .updateTable("line_connector_state")
        .set(row)
        .where("line_id", "=", p.line)
        .where("connector", "=", p.connector)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) === 0) {
        await trx
          .insertInto("line_connector_state")
          .values({ line_id: p.line, connector: p.connector, ...row })
          .execute();
      }
      return [
        () => ctx.services.hub?.forget?.(p.line),
        () =>
          ctx.bus.emit("line.deactivated", {
            lineId: p.line,
            connector: p.connector,
            reason: p.data.reason,
            message: p.data.message,
          }),
      ];
    }
  }
}
