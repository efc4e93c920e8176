import type { Ingest } from "../connectors/pipeline/ingest.js";
import type { HubServices } from "../lines/context.js";
import type { ConnectorInstances } from "../lines/instances.js";
import type { LineRepository } from "../lines/repository.js";
import { type RawWebhooks, storedRequest } from "./raw-store.js";

export type ReparseTarget = number | { line: string; since: number; until?: number };

/**
 * Parses stored webhook bodies again with the current connector code and re-queues what comes out
 * (the fix for a message a bug mis-parsed). `line` is a line connector's hash or id. Re-parsed
 * packets get fresh ids (the portal must not drop the corrected version as a duplicate) and skip
 * the platform-event de-duplication. Verification is not repeated: the body was verified on arrival.
 */
export function createReparse(
  hub: HubServices,
  deps: { lines: LineRepository; instances: ConnectorInstances; ingest: Ingest; raw: RawWebhooks },
) {
  return async function reparse(
    target: ReparseTarget,
  ): Promise<{ bodies: number; queued: number; failed: number }> {
    let rows: Awaited<ReturnType<RawWebhooks["select"]>>;
    if (typeof target === "number") rows = await deps.raw.select(target);
    else {
      const line = (await deps.lines.byHash(target.line)) ?? (await deps.lines.byId(target.line));
      if (!line) return { bodies: 0, queued: 0, failed: 0 };
      rows = await deps.raw.select({ lineConnectorId: line.id, since: target.since, until: target.until });
    }
    const generation = `reparse:${hub.clock.now()}`;
    let queued = 0;
    let failed = 0;
    for (const r of rows) {
      const line = await deps.lines.byId(r.line_connector_id);
      if (!line) {
        failed++;
        continue;
      }
      try {
        const { connector } = await deps.instances.get(line);
        const result = await connector.parse(storedRequest(r));
        queued += await deps.ingest(line, result.events, { generation: `${generation}:${r.seq}` });
      } catch (e) {
        failed++;
        hub.log.warn({ err: e, raw: r.seq, line: line.id }, "reparse of a stored webhook failed");
      }
    }
    return { bodies: rows.length, queued, failed };
  };
}
export type Reparse = ReturnType<typeof createReparse>;
