import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { registerAdminRoutes } from "./admin.js";
import { registerChatRoutes } from "./chats.js";
import { OperatorStreams, registerStream } from "./stream.js";

declare module "../context.js" {
  interface PortalServices {
    /** The operators' WebSocket streams; other modules may push their own events. */
    streams: OperatorStreams;
  }
}

/**
 * The operators' API (issue 5, item 8): REST under /api and the WebSocket stream. Needs the auth
 * module (registered before it) for `authenticate` / `requireAdmin`.
 */
export const apiModule: PortalModule = {
  name: "api",
  async register(app, ctx: PortalContext) {
    const streams = new OperatorStreams();
    ctx.services.streams = streams;
    registerChatRoutes(app, ctx);
    registerAdminRoutes(app, ctx);
    await registerStream(app, ctx, streams);
  },
  stop(ctx) {
    ctx.services.streams.closeAll();
  },
};
