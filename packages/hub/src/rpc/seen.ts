import { createHash } from "node:crypto";
import type { SeenIds } from "@openlines/protocol";
import type { HubServices } from "../lines/context.js";
import { insertIgnore } from "../lines/sql.js";

/**
 * Request ids taken inside the replay window, in the database so every hub replica refuses a
 * replay; one row per call, pruned with the other retention timers.
 */
export function durableSeenIds(hub: Pick<HubServices, "db" | "dialect">, portalId: string): SeenIds {
  return {
    async remember(id, expiresAt) {
      const full = `${portalId}:${id}`;
      const key = full.length <= 255 ? full : `h:${createHash("sha256").update(full).digest("base64url")}`;
      const n = await insertIgnore(
        hub.dialect,
        hub.db.insertInto("seen_request").values({ id: key, expires_ms: expiresAt }),
      );
      return n === 1;
    },
  };
}
