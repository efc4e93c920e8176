import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import websocketPlugin from "@fastify/websocket";
import { isOpenlinesError, OpenlinesError } from "@openlines/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { z } from "zod";
import type { ConnectorRouteContext } from "../contract.js";
import { Email, type HubFrame, VisitorFrame } from "./frames.js";
import { allowOrigin, clientIp, lineOf, preflight, useErrorReplies } from "./http.js";
import type { LivechatCtx, LivechatService } from "./service.js";
import { type LivechatSettings, originAllowed } from "./settings.js";

const SessionBody = z
  .object({
    name: z.string().trim().max(200).optional(),
    email: Email.optional(),
    pageUrl: z.string().max(4096).optional(),
  })
  .default({});

type Query = Record<string, string | undefined>;
const MAX_FRAME_BYTES = 64 * 1024;

let widgetCache: Promise<{ body: Buffer; etag: string }> | undefined;
function widgetScript() {
  widgetCache ??= readFile(new URL("./widget/widget.js", import.meta.url)).then((body) => ({
    body,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
  }));
  return widgetCache;
}

/**
 * The live chat's HTTP surface (docs/livechat.md): the widget script, its settings, visitor
 * sessions, uploads and downloads, and the visitor's WebSocket. Browser-facing and cross-origin:
 * every request that acts for a visitor checks the Origin against the line's allowed sites.
 */
export async function livechatRoutes(
  app: FastifyInstance,
  hub: ConnectorRouteContext,
  service: LivechatService,
) {
  // A visitor frame is at most a 10 000-character message: 64 KiB is plenty.
  if (!app.hasDecorator("websocketServer"))
    await app.register(websocketPlugin, { options: { maxPayload: MAX_FRAME_BYTES } });
  await app.register(async (scope) => {
    useErrorReplies(scope);
    const line = (req: FastifyRequest) => lineOf<LivechatSettings>(hub, req, "livechat");
    const allowed = (ctx: LivechatCtx) => (origin: string | undefined) => originAllowed(ctx.settings, origin);

    scope.get("/livechat/widget.js", async (req, reply) => {
      await line(req);
      const w = await widgetScript();
      reply
        .header("content-type", "text/javascript; charset=utf-8")
        .header("cache-control", "public, max-age=3600")
        .header("etag", w.etag);
      if (req.headers["if-none-match"] === w.etag) return reply.code(304).send();
      return reply.send(w.body);
    });

    for (const path of ["/livechat/config", "/livechat/session", "/livechat/upload", "/livechat/file"]) {
      scope.options(path, async (req, reply) => {
        const ctx = await line(req);
        const origin = req.headers.origin;
        if (!origin || !originAllowed(ctx.settings, origin)) throw new OpenlinesError("FORBIDDEN");
        preflight(reply, origin);
      });
    }

    scope.get("/livechat/config", async (req, reply) => {
      const ctx = await line(req);
      allowOrigin(req, reply, allowed(ctx));
      const s = ctx.settings;
      return { title: s.title, greeting: s.greeting, color: s.color, maxUploadBytes: s.maxUploadBytes };
    });

    scope.post("/livechat/session", async (req, reply) => {
      const ctx = await line(req);
      allowOrigin(req, reply, allowed(ctx), { requireOrigin: true });
      const body = SessionBody.safeParse(req.body ?? {});
      if (!body.success)
        throw new OpenlinesError("VALIDATION_FAILED", undefined, { details: body.error.issues });
      return service.createSession(ctx, clientIp(req), body.data);
    });

    scope.get("/livechat/file", async (req, reply) => {
      const ctx = await line(req);
      allowOrigin(req, reply, allowed(ctx));
      const q = req.query as Query;
      const visitorId = await service.authenticate(ctx, q.token ?? bearer(req));
      const f = await service.deps.store.file(q.id ?? "");
      if (!f || f.lineConnectorId !== ctx.line.id || f.visitorId !== visitorId)
        throw new OpenlinesError("NOT_FOUND");
      const { stream, size } = await service.deps.uploads.open(f.id);
      return reply
        .header("content-type", f.type)
        .header("content-length", String(size))
        .header("content-disposition", dispositionOf(f.type, f.name))
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "sandbox")
        .send(stream);
    });

    // Uploads stream straight to disk under the line's size limit; no body parser buffers them.
    await scope.register(async (uploads) => {
      uploads.removeAllContentTypeParsers();
      uploads.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
      uploads.post("/livechat/upload", async (req, reply) => {
        const ctx = await line(req);
        allowOrigin(req, reply, allowed(ctx), { requireOrigin: true });
        const q = req.query as Query;
        const visitorId = await service.authenticate(ctx, q.token ?? bearer(req));
        const declared = Number(req.headers["content-length"] ?? 0);
        if (declared > ctx.settings.maxUploadBytes)
          throw new OpenlinesError(
            "BODY_TOO_LARGE",
            `The file is larger than ${ctx.settings.maxUploadBytes} bytes.`,
          );
        if (!service.limiter.take(`upload:${ctx.line.id}:${visitorId}`, 10, 60_000))
          throw new OpenlinesError("RATE_LIMITED");
        const name = (q.name ?? "file").replace(/[\\/\0\r\n]/g, "_").slice(0, 255) || "file";
        const type = (req.headers["content-type"] ?? "application/octet-stream")
          .split(";")[0]
          .trim()
          .slice(0, 255);
        return service.upload(ctx, visitorId, req.body as Readable, { name, type });
      });
    });

    scope.get(
      "/livechat/socket",
      {
        websocket: true,
        // refused before the upgrade: an HTTP error, no socket
        preValidation: async (req) => {
          const ctx = await line(req);
          if (!originAllowed(ctx.settings, req.headers.origin))
            throw new OpenlinesError("FORBIDDEN", "This site is not allowed to use this chat.");
          const visitorId = await service.authenticate(ctx, (req.query as Query).token);
          (req as SocketRequest).livechat = { ctx, visitorId };
        },
      },
      (socket, req) => visitorSocket(service, socket, req as SocketRequest),
    );
  });
}

type SocketRequest = FastifyRequest & { livechat: { ctx: LivechatCtx; visitorId: string } };

function visitorSocket(service: LivechatService, socket: WebSocket, req: SocketRequest) {
  const { ctx, visitorId } = req.livechat;
  const q = req.query as Query;
  const after = Math.max(0, Number.parseInt(q.after ?? "0", 10) || 0);
  const pageUrl = q.page ? q.page.slice(0, 4096) : undefined;
  const send = (f: HubFrame) =>
    new Promise<boolean>((resolve) => {
      if (socket.readyState !== socket.OPEN) return resolve(false);
      socket.send(JSON.stringify(f), (err) => resolve(!err));
    });
  const reply = (f: HubFrame) => void send(f);
  const fail = (err: unknown, clientId?: string) => {
    if (isOpenlinesError(err))
      return reply({ type: "error", code: err.code, message: err.message, clientId });
    ctx.log.error({ err }, "live chat: visitor frame failed");
    reply({ type: "error", code: "INTERNAL", message: "Something went wrong; try again.", clientId });
  };

  // Frames are handled one at a time, in order, after the catch-up: a listener attached now, so
  // nothing sent while the catch-up runs is lost.
  let chain: Promise<unknown> = (async () => {
    if (pageUrl) await service.deps.store.updateVisitor(ctx.line.id, visitorId, { pageUrl });
    await send(service.readyFrame(ctx, visitorId));
    await service.catchUp(ctx, visitorId, after, send);
  })().catch((err) => fail(err));
  const unregister = service.deps.sockets.add(ctx.line.id, visitorId, socket);
  socket.on("close", unregister);
  socket.on("message", (data, isBinary) => {
    chain = chain.then(async () => {
      let frame: VisitorFrame;
      try {
        if (isBinary) throw new Error("binary");
        const parsed = VisitorFrame.safeParse(JSON.parse(String(data)));
        if (!parsed.success) throw new Error(parsed.error.message);
        frame = parsed.data;
      } catch {
        return reply({ type: "error", code: "BAD_REQUEST", message: "The frame is not understood." });
      }
      try {
        await service.onFrame(ctx, visitorId, frame, reply, pageUrl);
      } catch (err) {
        fail(err, frame.type === "message" ? frame.clientId : undefined);
      }
    });
  });
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith("Bearer ") ? h.slice(7) : undefined;
}

/** Images are shown inline; everything else downloads, so no upload runs as a page of the hub. */
function dispositionOf(type: string, name: string): string {
  const kind = /^image\/(png|jpe?g|gif|webp|bmp|avif)$/i.test(type) ? "inline" : "attachment";
  return `${kind}; filename*=UTF-8''${encodeURIComponent(name)}`;
}
