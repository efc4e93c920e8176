import { join } from "node:path";
import type { PortalContext } from "../context.js";
import type { PortalModule } from "../module.js";
import { Downloader } from "./downloader.js";
import { fileLimits } from "./limits.js";
import { LocalDiskStorage } from "./local-disk.js";
import { createFileService, replyPublic } from "./service.js";
import type { FileStorage } from "./types.js";

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
    register(app, ctx) {
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
    },
    async start(ctx) {
      await downloaders.get(ctx)?.resumePending();
    },
    async stop(ctx) {
      await downloaders.get(ctx)?.stop();
    },
  };
}
