import { join } from "node:path";
import type { Readable } from "node:stream";
import { OpenlinesError } from "@openlines/protocol";
import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { Downloader } from "./downloader.js";
import { fileLimits } from "./limits.js";
import { LocalDiskStorage } from "./local-disk.js";
import { createFileService, replyPublic } from "./service.js";
import type { FileStorage } from "./types.js";

/** The largest file an operator can upload from the workspace (the channel may take less). */
const OPERATOR_UPLOAD_MAX_BYTES = 100 * 1024 * 1024;

export interface FilesModuleOptions {
  /** Default: LocalDiskStorage in `config.filesDir`. */
  storage?: FileStorage;
}

/**
 * Files: `ctx.services.files`, the background downloader of inbound links (`ctx.services.files`
 * `.download` is used by the input after commit) and the public link route
 * `GET /files/public/:token[/:name]` that platforms fetch. Operators' `GET /api/files/:id` is
 * mounted by the API module with `files.reply` behind its session check.
 */
export function filesModule(o: FilesModuleOptions = {}): PortalModule {
  // Per portal: a process may hold several (tests, the all-in-one start).
  const downloaders = new WeakMap<PortalContext, Downloader>();
  return {
    name: "files",
    async register(app, ctx) {
      const limits = fileLimits(ctx.config.files);
      const storage = o.storage ?? new LocalDiskStorage(join(ctx.config.filesDir));
      const downloader = new Downloader(ctx, storage, limits);
      downloaders.set(ctx, downloader);
      const files = createFileService(ctx, storage, limits);
      const d = downloader;
      ctx.services.files = files;
      files.download = (ids) => d.enqueue(ids);
      files.downloadsIdle = () => d.idle();
      const route = (req: any, res: any) => replyPublic(ctx, files, req.params.token, res);
      app.get("/files/public/:token", route);
      app.get("/files/public/:token/:name", route);
      // Fail closed: without the auth module's session check these routes are not mounted at all.
      if (!app.hasDecorator("authenticate")) return;
      // The workspace: an operator downloads a stored file, or uploads one raw (body = the bytes,
      // `?name=`, the type in content-type) to attach to a reply: `{id}` for `files` of a message.
      app.get<{ Params: { id: string } }>("/api/files/:id", { preHandler: app.authenticate }, (req, res) =>
        files.reply(req.params.id, res),
      );
      await app.register(async (uploads) => {
        uploads.removeAllContentTypeParsers();
        uploads.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
        uploads.post<{ Querystring: { name?: string } }>(
          "/api/files",
          { preHandler: app.authenticate },
          async (req, res) => {
            if (Number(req.headers["content-length"] ?? 0) > OPERATOR_UPLOAD_MAX_BYTES)
              throw new OpenlinesError("BODY_TOO_LARGE", `Files up to ${OPERATOR_UPLOAD_MAX_BYTES} bytes.`);
            const name = (req.query.name ?? "file").replace(/[\\/\0\r\n]/g, "_").slice(0, 255) || "file";
            const type = (req.headers["content-type"] ?? "application/octet-stream").split(";")[0].trim();
            const id = await files.storeUpload(req.body as Readable, name, type.slice(0, 255), {
              maxBytes: OPERATOR_UPLOAD_MAX_BYTES,
            });
            res.status(201);
            return { file: await files.get(id) };
          },
        );
      });
    },
    async start(ctx) {
      await downloaders.get(ctx)?.resumePending();
    },
    async stop(ctx) {
      await downloaders.get(ctx)?.stop();
    },
  };
}
