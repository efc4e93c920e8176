import type { FileLink } from "@openlines/protocol";
import type { Insertable, Kysely } from "kysely";
import { newId } from "../contacts/store.js";
import type { FileView } from "../messages/types.js";
import type { FileTable } from "../store/core-schema.js";
import type { PortalDatabase } from "../store/index.js";
import { type FileLimits, typeAllowed } from "./limits.js";

/**
 * Records an inbound message's file links inside the input's transaction: each becomes a file
 * row `pending` (to be downloaded after commit) or, when the link already breaks a limit (too
 * many files, declared too large, type not allowed), `failed` with the reason. Returns the ids
 * to download and the files' views. The message is stored whatever happens to its files.
 */
export async function recordInboundFiles(
  trx: Kysely<PortalDatabase>,
  messageId: string,
  links: FileLink[],
  limits: FileLimits,
  now: number,
): Promise<{ pending: string[]; files: FileView[] }> {
  const pending: string[] = [];
  const rows: Array<Insertable<FileTable>> = [];
  let position = 0;
  for (const link of links) {
    const id = newId("f");
    let reason: string | null = null;
    if (position >= limits.maxCount) reason = `Too many files in one message (at most ${limits.maxCount}).`;
    else if (link.size !== undefined && link.size > limits.maxSizeBytes)
      reason = `The file is larger than ${limits.maxSizeBytes} bytes.`;
    else if (!typeAllowed(link.type, limits.allowedTypes))
      reason = `Files of type ${link.type} are not accepted.`;
    rows.push({
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
    });
    position++;
    if (!reason) pending.push(id);
  }
  if (rows.length > 0) {
    await trx.insertInto("file").values(rows).execute();
    await trx
      .insertInto("message_file")
      .values(rows.map((r, i) => ({ message_id: messageId, file_id: r.id, position: i })))
      .execute();
  }
  const files = rows.map((r) => ({
    id: r.id,
    name: r.name,
    type: r.type,
    size: r.size ?? null,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
  }));
  return { pending, files };
}
