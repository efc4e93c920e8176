import { OpenlinesError, Packet } from "@openlines/protocol";
import type { Kysely } from "kysely";
import type { ChatContexts } from "../../lines/chat-context.js";
import type { HubServices } from "../../lines/context.js";
import type { LineRow } from "../../lines/repository.js";
import { insertIgnore } from "../../lines/sql.js";
import type { HubDatabase } from "../../store/schema.js";
import type { InboundEvent } from "../contract.js";
import { convertEmoji } from "../emoji/convert.js";
import { buildPacket, inboundPacketId, platformEventKey } from "./packets.js";

export interface IngestOptions {
  /** Re-parse of a stored body: fresh packet ids and no platform-event de-duplication. */
  generation?: string;
  /**
   * More writes for the transaction that follows the queue's commit (the webhook's raw body): one
   * disk flush for all of them instead of one each. Runs even when no event is new.
   */
  alsoWrite?: (tx: Kysely<HubDatabase>) => Promise<unknown>;
}

/**
 * The incoming pipeline after `parse` (DESIGN 3.4): emoji normalised (the markup is the connector's
 * work, files are already links), chat context recorded, packets built and committed to the queue.
 * Re-deliveries are dropped twice over: by the `platform_event` table (an event queued within the
 * retention window) and by the deterministic packet id (the queue's idempotent enqueue, the portal's
 * de-dup). The event key is written only after the queue committed, so a crash in between makes the
 * platform's retry queue it again rather than lose it.
 */
export function createIngest(hub: HubServices, contexts: ChatContexts) {
  return async function ingest(row: LineRow, events: InboundEvent[], o: IngestOptions = {}): Promise<number> {
    const { definition } = hub.registry.get(row.connector);
    const now = hub.clock.now();
    const fresh: { event: InboundEvent; key?: string }[] = [];
    for (const event of events) {
      const key = event.dedupKey ? platformEventKey(row.id, event.type, event.dedupKey) : undefined;
      if (key && !o.generation) {
        const seen = await hub.db
          .selectFrom("platform_event")
          .select("key")
          .where("key", "=", key)
          .executeTakeFirst();
        if (seen) continue;
      }
      fresh.push({ event, key });
    }
    if (fresh.length === 0) {
      if (o.alsoWrite) await hub.db.transaction().execute(o.alsoWrite);
      return 0;
    }
    const items = fresh.map(({ event }) => {
      const connector = event.connector ?? row.connector;
      let data: unknown = event.data;
      if (event.type === "messages") {
        const m = event.data.message;
        data = { ...event.data, message: { ...m, text: convertEmoji(m.text ?? "", definition.emoticons) } };
      }
      const packet = buildPacket(row, {
        id: inboundPacketId(row.id, event.type, event.dedupKey, o.generation),
        type: event.type,
        data,
        connector,
        created: now,
      });
      const checked = Packet.safeParse(packet);
      // A verified request whose content does not fit the exchange format (a 10 kB message id, say:
      // found by fuzzing) is the sender's input, not a hub fault: 422, nothing queued, the raw body
      // kept for `reparse`. A 500 here would tell the platform to retry a request that never fits.
      if (!checked.success)
        throw new OpenlinesError(
          "VALIDATION_FAILED",
          `Connector ${row.connector} produced an invalid ${event.type} event.`,
          {
            details: checked.error.issues,
          },
        );
      return { lineConnectorId: row.id, packet: checked.data };
    });
    await hub.queue.enqueue(items);
    // After the commit, in one transaction (one disk flush): the chats' last inbound time (reply
    // windows) and the event keys against re-deliveries.
    await hub.db.transaction().execute(async (tx) => {
      await o.alsoWrite?.(tx);
      for (const { packet } of items) {
        if (packet.type === "messages" && packet.data.kind === "new")
          await contexts.touchInbound(row.id, packet.data.chat.id, packet.connector, now, tx);
      }
      for (const { key } of fresh) {
        if (key)
          await insertIgnore(hub.dialect, tx.insertInto("platform_event").values({ key, created_ms: now }));
      }
    });
    return items.length;
  };
}
export type Ingest = ReturnType<typeof createIngest>;
