import type { FileLink } from "@openlines/protocol";
import type { Kysely } from "kysely";
import { newId } from "../contacts/store.js";
import type { PortalDatabase } from "../store/index.js";
import { type FileLimits, typeAllowed } from "./limits.js";

/**
 * Records an inbound message's file links inside the input's transaction: each becomes a file
 * row `pending` (to be downloaded after commit) or, when the link already breaks a limit (too
 * many files, declared too large, type not allowed), `failed` with the reason. Returns the ids
 * to download. The message is stored whatever happens to its files.
 */
export async function recordInboundFiles(
  trx: Kysely<PortalDatabase>,
  messageId: string,
  links: FileLink[],
  limits: FileLimits,
  now: number,
): Promise<string[]> {
  const pending: string[] = [];
  let position = 0;
  for (const link of links) {
    const id = newId("f");
    let reason: string | null = null;
    if (position >= limits.maxCount) reason = `Too many files in one message (at most ${limits.maxCount}).`;
    else if (link.size !== undefined && link.size > limits.maxSizeBytes)
      reason = `The file is larger than ${limits.maxSizeBytes} bytes.`;
    else if (!typeAllowed(link.type, limits.allowedTypes))
      reason = `Files of type ${link.type} are not accepted.`;
    await trx
      .insertInto("file")
      .values({
        id,
        name: link.name,
        type: link.type,
        size: link.size ?? null,
        status: reason ? "failed" : "pending",
        reason,
        origin: "inbound",
        source_url: link.url,
        storage_key: null,
        sha256: null,
        created_ms: now,
      })
      .execute();
    await trx.insertInto("message_file").values({ message_id: messageId, file_id: id, position }).execute();
    position++;
    if (!reason) pending.push(id);
  }
  return pending;
}
