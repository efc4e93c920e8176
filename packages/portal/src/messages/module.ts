import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { Outbox } from "./outbox.js";
import { createMessageService, defaultOutboxPolicy, type OutboxPolicy } from "./service.js";
import "./types.js";
import { loadMessage } from "./views.js";

/**
 * Messages: `ctx.services.messages` (send, retry, edit, delete, history, ledger, read marks) and
 * the outbox that re-tries hand-overs to an unreachable hub. A finished inbound file download is
 * re-announced as `message.updated` of its message.
 */
export function messagesModule(o: { outbox?: Partial<OutboxPolicy> } = {}): PortalModule {
  // Per portal: a process may hold several (tests, the all-in-one start).
  const outboxes = new WeakMap<PortalContext, Outbox>();
  return {
    name: "messages",
    register(_app, ctx) {
      const service = createMessageService(ctx, { ...defaultOutboxPolicy, ...o.outbox });
      const box = new Outbox(ctx, service);
      outboxes.set(ctx, box);
      service.onUnsent = () => {
        box.plan().catch((e) => ctx.log.error({ err: e }, "outbox planning failed"));
      };
      ctx.services.messages = service;
      ctx.bus.on("file.updated", async ({ messageId }) => {
        if (!messageId) return;
        const message = await loadMessage(ctx.database.db, messageId);
        if (message) ctx.bus.emit("message.updated", { message });
      });
    },
    async start(ctx) {
      await outboxes.get(ctx)?.plan();
    },
    stop(ctx) {
      outboxes.get(ctx)?.stop();
    },
  };
}
