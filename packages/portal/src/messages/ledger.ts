import type { Kysely } from "kysely";
import type { PortalDatabase } from "../store/index.js";
import type { LedgerHop, MessageStatus } from "./types.js";

/**
 * The delivery ledger: one row per hop a message passed, with its time and attempt. The
 * message's status is the ledger's latest *forward* step: each status names the statuses it may
 * follow, and an update is a conditional UPDATE on them, so a late or duplicated report ("delivered"
 * after "read") changes nothing, even when two reports race.
 */
export async function appendHop(
  trx: Kysely<PortalDatabase>,
  messageId: string,
  attempt: number,
  hop: LedgerHop,
  at: number,
  detail?: string | null,
): Promise<void> {
  await trx
    .insertInto("delivery_ledger")
    .values({ message_id: messageId, attempt, hop, at_ms: at, detail: detail ?? null })
    .execute();
}

/** Several hops in one statement (an inbound message's first three). */
export async function appendHops(
  trx: Kysely<PortalDatabase>,
  hops: Array<{ messageId: string; attempt: number; hop: LedgerHop; at: number; detail?: string | null }>,
): Promise<void> {
  if (hops.length === 0) return;
  await trx
    .insertInto("delivery_ledger")
    .values(
      hops.map((h) => ({
        message_id: h.messageId,
        attempt: h.attempt,
        hop: h.hop,
        at_ms: h.at,
        detail: h.detail ?? null,
      })),
    )
    .execute();
}

/** The statuses an outgoing message may be in for it to move to each status. */
export const MovesFrom: Record<"queued" | "sent" | "delivered" | "read" | "failed", MessageStatus[]> = {
  queued: ["stored", "unsent"],
  sent: ["stored", "unsent", "queued"],
  delivered: ["stored", "unsent", "queued", "sent"],
  read: ["stored", "unsent", "queued", "sent", "delivered"],
  failed: ["stored", "unsent", "queued", "sent"],
};

/** The id the hub knows an outgoing message by: attempts after the first carry their number. */
export function wireId(messageId: string, attempt: number): string {
  return attempt > 1 ? `${messageId}~${attempt}` : messageId;
}

export function parseWireId(id: string): { messageId: string; attempt: number } {
  const m = /^(.*)~(\d+)$/.exec(id);
  return m ? { messageId: m[1], attempt: Number(m[2]) } : { messageId: id, attempt: 1 };
}
