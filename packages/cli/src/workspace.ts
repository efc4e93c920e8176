import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, normalize } from "node:path";
import type { FastifyInstance } from "fastify";

const types: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
  ".mp3": "audio/mpeg",
  ".wav": "audio/wav",
};

/** The built workspace (packages/web/dist), if it has been built. */
export function workspaceDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve("@openlines/web/package.json");
    const dist = join(dirname(pkg), "dist");
    return existsSync(join(dist, "index.html")) ? dist : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves the operators' workspace at `/`: built assets by path, and `index.html` for every other
 * GET that is not an API or hub route (the single-page app routes itself).
 */
export function serveWorkspace(app: FastifyInstance, dir: string | undefined = workspaceDir()): void {
  const reserved = /^\/(api|rpc|webhook|connector|files|livechat|form|hub|admin|healthz|demo)(\/|$|\?)/;
  const index = () =>
    dir
      ? readFileSync(join(dir, "index.html"))
      : "<!doctype html><title>openlines</title><p>The workspace is not built: run <code>npm run build -w @openlines/web</code>.</p>";
  app.setNotFoundHandler((request, reply) => {
    const path = decodeURIComponent(request.url.split("?")[0]);
    if (request.method !== "GET" || reserved.test(path)) {
      return reply.status(404).send({ error: { code: "NOT_FOUND", message: "Not found." } });
    }
    if (dir) {
      const file = normalize(join(dir, path));
      if (file.startsWith(dir) && existsSync(file) && extname(file)) {
        const immutable = path.startsWith("/assets/");
        return reply
          .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache")
          .type(types[extname(file)] ?? "application/octet-stream")
          .send(readFileSync(file));
      }
    }
    return reply.header("cache-control", "no-cache").type("text/html; charset=utf-8").send(index());
  });
}
