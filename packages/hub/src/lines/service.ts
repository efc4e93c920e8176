import { randomUUID } from "node:crypto";
import {
  type CallResult,
  type DeactivatePayload,
  isOpenlinesError,
  type LineRef,
  type LineStatus,
  OpenlinesError,
} from "@openlines/protocol";
import type { Kysely } from "kysely";
import { buildPacket } from "../connectors/pipeline/packets.js";
import { settingsJsonSchema } from "../connectors/registry.js";
import type { HubDatabase } from "../store/schema.js";
import type { ChatContexts } from "./chat-context.js";
import type { HubServices } from "./context.js";
import { type ConnectorInstances, webhookUrl } from "./instances.js";
import type { LineRepository, LineRow } from "./repository.js";

const deactivateMessages: Record<DeactivatePayload["reason"], string> = {
  connectedElsewhere: "This account was connected to another line; connect it here again to take it back.",
  credentialsRevoked:
    "The channel no longer accepts the saved credentials; enter new ones and activate the line.",
  webhookLost: "The channel no longer sends its messages to this hub; activate the line again.",
  disabled: "The line connector was disabled.",
};

/**
 * The line connector lifecycle the portal drives through RPC (DESIGN 3.3, 3.7): settings, test,
 * activation with single connection, deactivation, status and the list of connector types.
 */
export function lineService(
  hub: HubServices,
  lines: LineRepository,
  contexts: ChatContexts,
  instances: ConnectorInstances,
) {
  /**
   * The line connector a call names. A virtual type (`botframework.skype`, as packets name it) finds
   * the line of its real connector (`botframework`) when no line was saved under the virtual type.
   */
  async function find(portalId: string, ref: LineRef): Promise<LineRow> {
    const real = hub.registry.get(ref.connector).definition.type;
    let row = await lines.byRef(portalId, ref.line, ref.connector);
    if (!row && real !== ref.connector) row = await lines.byRef(portalId, ref.line, real);
    if (!row)
      throw new OpenlinesError(
        "SETTINGS_MISSING",
        "This line connector has no settings yet; call saveSettings first.",
      );
    return row;
  }

  /** Marks a line as needing an administrator and tells its portal through the queue. */
  async function needsAttention(row: LineRow, reason: DeactivatePayload["reason"], detail?: string) {
    const message = detail ? `${deactivateMessages[reason]} (${detail})` : deactivateMessages[reason];
    await lines.setStatus(row.id, "needsAttention", reason);
    hub.events.emit("line:needsAttention", { lineConnectorId: row.id, reason });
    const packet = buildPacket(row, {
      id: `deact_${randomUUID()}`,
      type: "deactivate",
      data: { reason, message, at: hub.clock.now() },
      created: hub.clock.now(),
    });
    await hub.queue.enqueue([{ lineConnectorId: row.id, packet }]);
  }

  /** Binds the account to a line and makes it active, alone or inside the takeover transaction. */
  async function bindAccount(db: Kysely<HubDatabase>, id: string, accountKey: string) {
    await db
      .updateTable("line_connector")
      .set({ account_key: accountKey, status: "active", status_reason: null, updated_ms: hub.clock.now() })
      .where("id", "=", id)
      .execute();
  }

  return {
    find,
    needsAttention,
    instance: (row: LineRow) => instances.get(row),

    async saveSettings(portalId: string, args: LineRef & { settings: Record<string, unknown> }) {
      const { definition } = hub.registry.get(args.connector);
      const parsed = definition.settings.safeParse(args.settings);
      if (!parsed.success)
        throw new OpenlinesError("SETTINGS_INVALID", undefined, {
          details: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
        });
      let row = await lines.byRef(portalId, args.line, args.connector);
      if (!row) {
        try {
          row = await lines.create(portalId, args.line, args.connector);
        } catch (e) {
          // two saves racing: the other created it
          row = await lines.byRef(portalId, args.line, args.connector);
          if (!row) throw e;
        }
      }
      await lines.saveSettings(row.id, parsed.data);
      instances.forget(row.id);
      return { webhookUrl: webhookUrl(hub.config.publicUrl, row.hash), status: row.status };
    },

    async testConnect(portalId: string, ref: LineRef): Promise<CallResult<"testConnect">> {
      const row = await find(portalId, ref);
      const { connector } = await instances.get(row);
      try {
        const { account } = await connector.testConnect();
        return { ok: true, account };
      } catch (e) {
        if (!isOpenlinesError(e)) hub.log.warn({ err: e, line: row.id }, "testConnect failed");
        return {
          ok: false,
          error: isOpenlinesError(e)
            ? { code: e.code, message: e.message }
            : { code: "PLATFORM_ERROR", message: "The channel could not be reached." },
        };
      }
    },

    /**
     * testConnect, account id, webhook installed, then the account bound to this line alone: a line
     * that held it before loses its settings and chat context, needs an administrator, and its
     * portal gets a `deactivate` packet (connectedElsewhere).
     */
    async activate(portalId: string, ref: LineRef) {
      const row = await find(portalId, ref);
      const { connector, resolved } = await instances.get(row);
      await connector.testConnect();
      const accountKey = `${resolved.definition.accountFamily ?? resolved.definition.type}:${await connector.accountId()}`;
      await connector.register?.();
      const previous = await lines.byAccount(accountKey);
      if (previous && previous.id !== row.id) {
        await hub.db.transaction().execute(async (tx) => {
          await tx
            .updateTable("line_connector")
            .set({
              account_key: null,
              status: "needsAttention",
              status_reason: "connectedElsewhere",
              updated_ms: hub.clock.now(),
            })
            .where("id", "=", previous.id)
            .execute();
          await tx.deleteFrom("connector_settings").where("line_connector_id", "=", previous.id).execute();
          await tx.deleteFrom("chat_context").where("line_connector_id", "=", previous.id).execute();
          await bindAccount(tx, row.id, accountKey);
        });
        instances.forget(previous.id);
        await needsAttention(previous, "connectedElsewhere");
      } else {
        await bindAccount(hub.db, row.id, accountKey);
      }
      return { status: "active" as const, webhookUrl: webhookUrl(hub.config.publicUrl, row.hash) };
    },

    async deactivate(portalId: string, ref: LineRef) {
      const row = await find(portalId, ref);
      try {
        const { connector } = await instances.get(row);
        await connector.unregister?.();
      } catch (e) {
        // The line is disabled whatever the platform says; a webhook left behind is refused by status.
        hub.log.warn({ err: e, line: row.id }, "unregister failed while deactivating");
      }
      await hub.db
        .updateTable("line_connector")
        .set({ status: "disabled", status_reason: null, account_key: null, updated_ms: hub.clock.now() })
        .where("id", "=", row.id)
        .execute();
      return { status: "disabled" as const };
    },

    async status(
      portalId: string,
      f: { line?: string; connector?: string },
    ): Promise<{ lines: LineStatus[] }> {
      const rows = await lines.listForPortal(portalId, f);
      const out: LineStatus[] = [];
      for (const row of rows) {
        const resolved = hub.registry.has(row.connector) ? hub.registry.get(row.connector) : undefined;
        const queue = await hub.queue.lineState(row.id);
        const accountId = row.account_key
          ? row.account_key.slice(row.account_key.indexOf(":") + 1)
          : undefined;
        out.push({
          line: row.line_id,
          connector: row.connector,
          status: row.status,
          ...(row.status_reason ? { reason: row.status_reason } : {}),
          webhookUrl: webhookUrl(hub.config.publicUrl, row.hash),
          ...(accountId ? { account: { id: accountId } } : {}),
          ...(resolved ? { capabilities: resolved.capabilities } : {}),
          queue: {
            waiting: queue.waiting,
            attempts: queue.attempts,
            blockedUntil: queue.blockedUntil,
            firstFailureAt: queue.firstFailureAt,
            deadLetters: queue.deadLetters,
          },
        });
      }
      return { lines: out };
    },

    connectors(): CallResult<"connectors"> {
      return {
        connectors: hub.registry.list().map((r) => ({
          type: r.type,
          title: r.title,
          settingsSchema: settingsJsonSchema(r.definition),
          capabilities: r.capabilities,
        })),
      };
    },

    contexts,
  };
}
export type LineService = ReturnType<typeof lineService>;
