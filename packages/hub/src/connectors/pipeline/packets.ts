import { createHash, randomUUID } from "node:crypto";
import { FORMAT_VERSION, type Packet } from "@openlines/protocol";
import type { LineRow } from "../../lines/repository.js";

const digest = (parts: string[]) => createHash("sha256").update(parts.join("\n")).digest("base64url");

/**
 * The packet id of an inbound event: derived from (line connector, event type, the platform's
 * event id) so a re-delivered event gets the same id, which the queue's idempotent enqueue and the
 * portal's de-duplication both drop. An event without a platform id gets a random one.
 * `generation` (a re-parse) makes a fresh id on purpose: the corrected packet must reach the portal.
 */
export function inboundPacketId(
  lineConnectorId: string,
  type: string,
  dedupKey?: string,
  generation?: string,
): string {
  if (!dedupKey) return `in_${randomUUID()}`;
  return `in_${digest([lineConnectorId, type, dedupKey, ...(generation ? [generation] : [])])}`;
}

/** The key of the platform_event table for an event (fixed length, whatever the platform's id). */
export function platformEventKey(lineConnectorId: string, type: string, dedupKey: string): string {
  return createHash("sha256").update(`${lineConnectorId}\n${type}\n${dedupKey}`).digest("hex");
}

/** Wraps a payload in the packet envelope of its line connector. */
export function buildPacket(
  row: Pick<LineRow, "portal_id" | "line_id" | "connector">,
  o: { id: string; type: Packet["type"]; data: unknown; connector?: string; created: number },
): Packet {
  return {
    id: o.id,
    version: FORMAT_VERSION,
    portal: row.portal_id,
    line: row.line_id,
    connector: o.connector ?? row.connector,
    created: o.created,
    type: o.type,
    data: o.data,
  } as Packet;
}
