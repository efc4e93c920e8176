import { type Packet, Packet as PacketSchema } from "@openlines/protocol";
import type { Insertable } from "kysely";
import type { PortalContext } from "../context.js";
import {
  type AfterCommit,
  takeDeliveryStatus,
  takeMessage,
  takeReadStatus,
  takeTyping,
} from "../messages/inbound.js";
import type { TakenPacketTable } from "../store/core-schema.js";

/**
 * Takes one packet exactly once. The `taken_packet` row is inserted first in the packet's own
 * transaction, so a duplicate (redelivery, or the same packet racing in on two connections)
 * either finds the row or fails on its primary key and rolls back everything it did. A packet
 * that does not match the schema is recorded as `rejected` and still counted as taken: the hub
 * would otherwise redeliver it until its packets expire. A database failure is not taken, so the
 * hub tries again. Returns whether the packet counts as taken.
 */
export async function takePacket(ctx: PortalContext, raw: unknown): Promise<boolean> {
  const db = ctx.database.db;
  const envelope = (raw ?? {}) as Record<string, unknown>;
  const id =
    typeof envelope.id === "string" && envelope.id.length > 0 && envelope.id.length <= 256
      ? envelope.id
      : null;
  if (!id) {
    ctx.log.warn("packet without an id; cannot be taken");
    return false;
  }
  const parsed = PacketSchema.safeParse(raw);
  const now = ctx.clock.now();
  const str = (v: unknown, max: number) => (typeof v === "string" ? v.slice(0, max) : "");
  if (!parsed.success) {
    const reason = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join(".")}: ${i.message}`)
      .join("; ");
    ctx.log.warn({ packet: id, reason }, "packet rejected: it does not match the exchange format");
    await insertTaken(ctx, {
      id,
      line_id: str(envelope.line, 255),
      connector: str(envelope.connector, 64),
      type: str(envelope.type, 32),
      outcome: "rejected",
      reason,
      taken_ms: now,
    }).catch(ignoreDuplicate);
    return true;
  }
  const packet = parsed.data;
  let after: AfterCommit = [];
  // Two packets creating the same contact or chat at once (the same person on two lines) collide
  // on a unique key, and a loaded database may pick a deadlock victim: the loser runs again and
  // then finds what the winner created.
  for (let attempt = 1; ; attempt++) {
    try {
      after = await db.transaction().execute(async (trx) => {
        const seen = await trx
          .selectFrom("taken_packet")
          .select("id")
          .where("id", "=", id)
          .executeTakeFirst();
        if (seen) return [];
        await trx
          .insertInto("taken_packet")
          .values({
            id,
            line_id: packet.line,
            connector: packet.connector,
            type: packet.type,
            outcome: "taken",
            reason: null,
            taken_ms: now,
          })
          .execute();
        return route(ctx, trx, packet);
      });
      break;
    } catch (e) {
      // The same packet committed by a concurrent delivery: it is taken.
      const taken = await db.selectFrom("taken_packet").select("id").where("id", "=", id).executeTakeFirst();
      if (taken) return true;
      if (attempt >= 3) throw e;
      ctx.log.info({ packet: id, attempt, err: e }, "packet transaction collided; running it again");
    }
  }
  for (const fn of after) {
    try {
      await fn();
    } catch (e) {
      ctx.log.error({ err: e, packet: id }, "after-commit work of a packet failed");
    }
  }
  return true;
}

async function route(
  ctx: PortalContext,
  trx: Parameters<typeof takeMessage>[1],
  p: Packet,
): Promise<AfterCommit> {
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
        () => ctx.services.hub?.forget?.(),
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

async function insertTaken(ctx: PortalContext, row: Insertable<TakenPacketTable>) {
  await ctx.database.db.insertInto("taken_packet").values(row).execute();
}

function ignoreDuplicate(): void {}
