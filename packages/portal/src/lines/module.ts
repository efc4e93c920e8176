import type { Presence } from "../auth/accounts.js";
import type { PortalContext } from "../context.js";
import type { MessageView } from "../messages/types.js";
import type { PortalModule } from "../module.js";
import { SessionRouter } from "./router.js";
import { LineStore, type SessionView } from "./store.js";

export interface LinesService {
  store: LineStore;
  router: SessionRouter;
}

declare module "../context.js" {
  interface PortalServices {
    lines: LinesService;
  }
}

declare module "../events/bus.js" {
  interface PortalEvents {
    /** A session changed state (take, transfer, close, pass-on, rating); `operatorIds` = who should see it. */
    "session.changed": { session: SessionView; reason: string; operatorIds: string[] };
    /** A session was offered to these operators, to take before `deadline`. */
    "session.offered": { session: SessionView; operatorIds: string[]; deadline: number };
    /** A customer message, after the router placed it in its session. */
    "session.message": { session: SessionView; message: MessageView; operatorIds: string[] };
    "operator.presence": { operatorId: string; presence: Presence };
  }
}

/**
 * Lines and sessions (issue 5, items 5 and 7): consumes `message.received` and routes each
 * conversation to operators. The routes that manage lines live in the API module.
 */
export const linesModule: PortalModule = {
  name: "lines",
  register(_app, ctx: PortalContext) {
    const store = new LineStore(ctx.database.db, () => ctx.clock.now());
    const router = new SessionRouter(ctx, store);
    ctx.services.lines = { store, router };
    ctx.bus.on("message.received", ({ message, chat }) => router.onMessage(message, chat));
    ctx.bus.on("chat.closedByUser", ({ chatId }) =>
      router.background("chat.closedByUser", async () => {
        const s = await router.latestOfChat(chatId);
        if (s && s.state !== "closed") await router.close(s.id, "closedByUser", null);
      }),
    );
    ctx.bus.on("line.deactivated", ({ lineId, connector, reason, message }) =>
      router.background("line.deactivated", () =>
        store.saveConnector(lineId, connector, { status: "needsAttention", reason: `${reason}: ${message}` }),
      ),
    );
  },
  async start(ctx) {
    await ctx.services.lines.router.restore();
  },
  stop(ctx) {
    ctx.services.lines.router.stop();
  },
};
