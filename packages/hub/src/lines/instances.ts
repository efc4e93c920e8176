import { OpenlinesError } from "@openlines/protocol";
import type { Connector, ConnectorContext } from "../connectors/contract.js";
import type { ResolvedConnector } from "../connectors/registry.js";
import type { FileTokens } from "../files/token.js";
import type { ChatContexts } from "./chat-context.js";
import type { HubServices } from "./context.js";
import type { LineRepository, LineRow } from "./repository.js";

export interface LineInstance {
  row: LineRow;
  resolved: ResolvedConnector;
  ctx: ConnectorContext;
  connector: Connector;
}

export function webhookUrl(publicUrl: string, hash: string): string {
  return `${publicUrl}/webhook?line=${encodeURIComponent(hash)}`;
}

/**
 * Connector instances per line connector, built from the definition and the opened settings and
 * kept while the settings row is unchanged (so a connector can cache tokens). A settings change on
 * another replica is seen by its `updated_ms`.
 */
export function connectorInstances(
  hub: HubServices,
  lines: LineRepository,
  contexts: ChatContexts,
  files: FileTokens,
) {
  const cache = new Map<string, { updated: number; instance: LineInstance }>();
  return {
    /** The instance of this line connector; SETTINGS_MISSING when it has none yet. */
    async get(row: LineRow): Promise<LineInstance> {
      const resolved = hub.registry.get(row.connector);
      // Every webhook comes here: compare the settings' time first and open (decrypt, parse) them
      // only when they changed since the cached instance was built.
      const updated = await lines.settingsUpdated(row.id);
      if (updated === undefined) throw new OpenlinesError("SETTINGS_MISSING");
      const hit = cache.get(row.id);
      if (hit && hit.updated === updated) {
        hit.instance.row = row;
        return hit.instance;
      }
      const loaded = await lines.loadSettings(row.id);
      if (!loaded) throw new OpenlinesError("SETTINGS_MISSING");
      const def = resolved.definition;
      const overrides = hub.config.baseUrls[def.type] ?? {};
      const ctx: ConnectorContext = {
        line: {
          id: row.id,
          portalId: row.portal_id,
          lineId: row.line_id,
          connector: row.connector,
          hash: row.hash,
          webhookUrl: webhookUrl(hub.config.publicUrl, row.hash),
        },
        settings: loaded.settings,
        baseUrl(name) {
          const url = overrides[name] ?? def.baseUrls?.[name];
          if (!url) throw new Error(`Connector ${def.type} has no base URL named "${name}".`);
          return url.replace(/\/+$/, "");
        },
        publicUrl: hub.config.publicUrl,
        clock: hub.clock,
        fetch: hub.fetch,
        chatContext: contexts.storeFor(row.id),
        fileLink(ref, file) {
          const token = files.sign({
            l: row.id,
            r: ref,
            n: file.name,
            t: file.type,
            e: hub.clock.now() + hub.config.fileLinkTtlMs,
          });
          return `${hub.config.publicUrl}/files/${token}`;
        },
        async sentMessage(platformMessageId) {
          // No stored id is longer or holds a NUL; PostgreSQL refuses a NUL even in a lookup (a
          // status webhook with such an id was a 500: found by the webhook fuzz sweep).
          if (platformMessageId.length > 256 || platformMessageId.includes("\u0000")) return undefined;
          const r = await hub.db
            .selectFrom("sent_message")
            .select(["message_id", "chat_id"])
            .where("line_connector_id", "=", row.id)
            .where("platform_message_id", "=", platformMessageId)
            .executeTakeFirst();
          return r && { messageId: r.message_id, chatId: r.chat_id };
        },
        log: {
          info: (o, m) => hub.log.info({ ...o, line: row.id, connector: row.connector }, m),
          warn: (o, m) => hub.log.warn({ ...o, line: row.id, connector: row.connector }, m),
          error: (o, m) => hub.log.error({ ...o, line: row.id, connector: row.connector }, m),
        },
      };
      const instance: LineInstance = { row, resolved, ctx, connector: def.create(ctx) };
      cache.set(row.id, { updated: loaded.updated, instance });
      return instance;
    },
    forget(lineConnectorId: string) {
      cache.delete(lineConnectorId);
    },
  };
}
export type ConnectorInstances = ReturnType<typeof connectorInstances>;
