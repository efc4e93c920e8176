import { Readable } from "node:stream";
import { OpenlinesError } from "@openlines/protocol";
import type { Connector, ConnectorDefinition } from "../contract.js";
import { UploadDir } from "./files.js";
import { livechatRoutes } from "./routes.js";
import { type LivechatCtx, LivechatService } from "./service.js";
import { LivechatSettings, livechatCapabilities } from "./settings.js";
import { SocketRegistry } from "./sockets.js";
import { LivechatStore } from "./store.js";

export interface LivechatOptions {
  /**
   * Where visitors' uploads are kept. Default `OPENLINES_LIVECHAT_UPLOAD_DIR`, else
   * `./data/livechat-uploads`.
   */
  uploadDir?: string;
}

/**
 * The live chat connector (`livechat`): a widget a company embeds on its site with one script tag.
 * It has no platform: the hub itself is the platform, so `verify/parse` take no webhooks and the
 * visitor's side runs on the connector's own routes (routes.ts), while the operator's replies
 * reach `send/typing/markRead/update/delete` from the outbox like any channel's.
 *
 * The service (sockets, rate limits, the store) lives per hub process and is made when the hub
 * mounts the routes; connector instances find it there. A process normally runs one hub; when a
 * test runs several in turn, the newest one's service is used and each is dropped on close.
 */
export function createLivechat(options: LivechatOptions = {}): ConnectorDefinition<LivechatSettings> {
  const services: LivechatService[] = [];
  const current = () => {
    const s = services.at(-1);
    if (!s) throw new OpenlinesError("INTERNAL", "The live chat's routes are not mounted on this hub.");
    return s;
  };

  return {
    type: "livechat",
    title: "Live chat on your site",
    settings: LivechatSettings,
    capabilities: livechatCapabilities,

    async routes(app, hub) {
      const sockets = new SocketRegistry();
      const service = new LivechatService({
        store: new LivechatStore(hub.db, hub.dialect, hub.clock),
        sockets,
        uploads: new UploadDir(
          options.uploadDir ?? process.env.OPENLINES_LIVECHAT_UPLOAD_DIR ?? "./data/livechat-uploads",
        ),
        clock: hub.clock,
        ingest: (hash, events) => hub.ingest(hash, events),
      });
      services.push(service);
      app.addHook("onClose", async () => {
        sockets.closeAll();
        services.splice(services.indexOf(service), 1);
      });
      await livechatRoutes(app, hub, service);
    },

    create(ctx: LivechatCtx): Connector {
      return {
        async testConnect() {
          return { account: { id: ctx.line.id, name: ctx.settings.title } };
        },
        /** A widget is not an external account: the line connector is its own account. */
        async accountId() {
          return ctx.line.id;
        },
        async verify() {
          throw new OpenlinesError("NOT_FOUND", "The live chat takes no webhooks; visitors use /livechat/*.");
        },
        async parse() {
          return { events: [] };
        },
        send: (m) => current().send(ctx, m),
        update: (m) => current().update(ctx, m.chat.id, m.platformMessageId, m.text),
        delete: (m) => current().delete(ctx, m.chat.id, m.platformMessageId),
        typing: (chat) => current().typing(ctx, chat.id),
        markRead: (chat, ids) => current().markRead(ctx, chat.id, ids),
        async resolveFile(ref) {
          const s = current();
          const f = await s.deps.store.file(ref);
          if (!f || f.lineConnectorId !== ctx.line.id) throw new OpenlinesError("NOT_FOUND");
          const { stream, size } = await s.deps.uploads.open(f.id);
          return new Response(Readable.toWeb(stream) as ReadableStream, {
            headers: { "content-type": f.type, "content-length": String(size) },
          });
        },
      };
    },
  };
}

export const livechat = createLivechat();
