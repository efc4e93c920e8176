import { createHash } from "node:crypto";
import { type CallArgs, type CallName, type CallResult, OpenlinesError } from "@openlines/protocol";
import type { HubServices } from "../lines/context.js";
import type { LineService } from "../lines/service.js";
import type { OutboxStore } from "../outbox/store.js";
import type { OutboxWorker } from "../outbox/worker.js";

/** The outbox id of an operation: readable when short, hashed when the ids would overflow the column. */
function outboxId(...parts: (string | number)[]): string {
  const id = parts.join(":");
  return id.length <= 255
    ? id
    : `${parts[0]}:${parts[1]}:h:${createHash("sha256").update(id).digest("base64url")}`;
}

type Args<M extends CallName> = Exclude<CallArgs<M>, undefined> & Record<string, any>;
type Handler<M extends CallName> = (
  portalId: string,
  args: Args<M>,
) => Promise<CallResult<M>> | CallResult<M>;
export type RpcHandlers = { [M in CallName]: Handler<M> };

/**
 * The portal → hub methods (DESIGN 4), one handler per entry of `Calls`. Send, update, delete,
 * typing and markRead answer once the call is stored in the outbox; the platform is called later
 * by the outbox worker and the result comes back as a `deliveryStatus` packet.
 */
export function rpcHandlers(
  hub: HubServices,
  service: LineService,
  outbox: OutboxStore,
  worker: OutboxWorker,
): RpcHandlers {
  async function activeLine(portalId: string, ref: { line: string; connector: string }) {
    const row = await service.find(portalId, ref);
    if (row.status !== "active") throw new OpenlinesError("LINE_INACTIVE");
    return row;
  }
  /**
   * Stores one outbox operation per message and wakes the worker. An edit passes `at`, the call's
   * time, in its id, since one message may be edited many times; a send or delete happens once.
   */
  async function storeMessages(
    lineConnectorId: string,
    kind: "send" | "update" | "delete",
    messages: any[],
    at?: number,
  ) {
    await outbox.insert(
      messages.map((m) => ({
        id:
          at === undefined
            ? outboxId(lineConnectorId, kind, m.id)
            : outboxId(lineConnectorId, kind, m.id, at),
        lineConnectorId,
        kind,
        chatId: m.chat.id,
        messageId: m.id,
        body: m,
      })),
    );
    void worker.wake();
  }
  /** Stores a chat action (typing, read), unique by the call's time, and wakes the worker. */
  async function storeChatAction(
    lineConnectorId: string,
    kind: "typing" | "markRead",
    chatId: string,
    body: unknown,
  ) {
    const at = hub.clock.now();
    await outbox.insert([
      { id: outboxId(lineConnectorId, kind, chatId, at), lineConnectorId, kind, chatId, body },
    ]);
    void worker.wake();
  }
  return {
    saveSettings: (p, a) => service.saveSettings(p, a),
    testConnect: (p, a) => service.testConnect(p, a),
    activate: (p, a) => service.activate(p, a),
    deactivate: (p, a) => service.deactivate(p, a),
    status: (p, a) => service.status(p, a),
    connectors: () => service.connectors(),
    async sendMessages(p, a) {
      const row = await activeLine(p, a);
      // A repeated call (the portal never saw our answer) must not send a message twice: what is
      // still in the outbox is kept by its id, what was already sent is skipped here.
      const fresh: any[] = [];
      for (const m of a.messages) if (!(await outbox.platformId(row.id, m.id))) fresh.push(m);
      await storeMessages(row.id, "send", fresh);
      return { accepted: a.messages.map((m: any) => m.id) };
    },
    async updateMessages(p, a) {
      const row = await activeLine(p, a);
      await storeMessages(row.id, "update", a.messages, hub.clock.now());
      return { accepted: a.messages.map((m: any) => m.id) };
    },
    async deleteMessages(p, a) {
      const row = await activeLine(p, a);
      await storeMessages(row.id, "delete", a.messages);
      return { accepted: a.messages.map((m: any) => m.id) };
    },
    async typing(p, a) {
      const row = await activeLine(p, a);
      await storeChatAction(row.id, "typing", a.chat.id, a);
      return { ok: true as const };
    },
    async markRead(p, a) {
      const row = await activeLine(p, a);
      await storeChatAction(row.id, "markRead", a.chat.id, {
        chat: a.chat,
        platformMessageIds: a.platformMessageIds ?? [],
      });
      return { ok: true as const };
    },
    async ack(p, a) {
      const r = await hub.queue.ack(p, a.ids);
      return { acknowledged: typeof r === "number" ? r : (r as { acknowledged: number }).acknowledged };
    },
    async deadLetters(p, a) {
      return { items: (await hub.queue.deadLetters(p, { lineId: a.line, limit: a.limit })) as any };
    },
    async redrive(p, a) {
      const r = await hub.queue.redrive(p, { lineId: a.line, ids: a.ids });
      return { requeued: typeof r === "number" ? r : (r as { requeued: number }).requeued };
    },
    async templates(p, a) {
      const row = await service.find(p, a);
      const { connector } = await service.instance(row);
      if (!connector.templates)
        throw new OpenlinesError("CAPABILITY_REFUSED", "This channel has no message templates.");
      return { templates: await connector.templates() };
    },
  };
}
