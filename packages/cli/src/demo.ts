import type { Portal } from "@openlines/portal/server";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

const DEMO_LINE = "Demo";

function origins(publicUrl: string): string[] {
  const u = new URL(publicUrl);
  const port = u.port ? `:${u.port}` : "";
  return [...new Set([u.origin, `${u.protocol}//localhost${port}`, `${u.protocol}//127.0.0.1${port}`])];
}

/**
 * The first start's demo: a line named "Demo" with every operator on it, connected to the live
 * chat, and a page at `/demo` where anyone can try being a customer.
 */
export async function ensureDemo(
  portal: Portal,
  publicUrl: string,
  log: Logger,
): Promise<{ lineId: string; lineHash: string } | null> {
  const { lines, hub, auth } = portal.ctx.services;
  try {
    let line = (await lines.store.list()).find((l) => l.name === DEMO_LINE);
    if (!line) {
      const operators = await auth.accounts.list();
      line = await lines.store.create(
        { name: DEMO_LINE },
        operators.map((o) => o.id),
      );
    }
    const settings = { title: "Chat with us", allowedOrigins: origins(publicUrl) };
    const saved = await hub.saveSettings({ line: line.id, connector: "livechat", settings });
    const active = await hub.activate({ line: line.id, connector: "livechat" });
    await lines.store.saveConnector(line.id, "livechat", {
      status: active.status,
      webhookUrl: saved.webhookUrl,
    });
    const lineHash = new URL(saved.webhookUrl).searchParams.get("line") ?? "";
    return { lineId: line.id, lineHash };
  } catch (e) {
    log.warn({ err: e }, "the demo line could not be set up");
    return null;
  }
}

/** Mounts `/demo` before the server listens; the line hash is known once the demo line exists. */
export function demoRoute(app: FastifyInstance, lineHash: () => string | undefined): void {
  app.get("/demo", async (_req, reply) => {
    const hash = lineHash();
    if (!hash)
      return reply
        .status(503)
        .send({ error: { code: "NOT_FOUND", message: "The demo line is not set up." } });
    return reply.type("text/html; charset=utf-8").send(demoPage(hash));
  });
}

function demoPage(lineHash: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>openlines demo shop</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; color: #1f2937; }
  header { background: #111827; color: #fff; padding: 1rem 2rem; }
  main { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.6; }
</style>
</head>
<body>
<header><h1>Demo shop</h1></header>
<main>
  <p>This page plays the part of a company's site. Open the chat in the corner and write as a customer;
  sign in to the workspace in another window to answer as an operator.</p>
</main>
<script src="/livechat/widget.js?line=${encodeURIComponent(lineHash)}" async></script>
</body>
</html>`;
}
