import { createHub, loadHubConfig } from "@openlines/hub";
import { loadPortalConfig } from "@openlines/portal/config";
import { createPortal, installErrorHandler } from "@openlines/portal/server";
import Fastify from "fastify";

function onSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(1);
    stopping = true;
    await close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
}

/** `openlines hub`: the hub alone, for production behind a reverse proxy (docs/scale.md). */
export async function hubCommand(settings: NodeJS.ProcessEnv): Promise<void> {
  const config = loadHubConfig(settings);
  const hub = createHub(config);
  await hub.start();
  console.log(`openlines hub listening on ${config.host}:${config.port} (public URL ${config.publicUrl})`);
  onSignals(() => hub.close());
}

/** `openlines portal`: the portal alone; it talks to the hub at OPENLINES_HUB_URL. */
export async function portalCommand(settings: NodeJS.ProcessEnv): Promise<void> {
  const config = loadPortalConfig(settings);
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  installErrorHandler(app);
  const portal = await createPortal(config, { app });
  app.get("/healthz", async () => ({ ok: true, portal: "up" }));
  const { serveWorkspace } = await import("../workspace.js");
  serveWorkspace(app);
  await portal.start();
  const port = Number(settings.OPENLINES_PORTAL_PORT ?? settings.PORT ?? 8081);
  const host = settings.OPENLINES_PORTAL_HOST ?? "127.0.0.1";
  await app.listen({ port, host });
  console.log(`openlines portal listening on ${host}:${port} (public URL ${config.publicUrl})`);
  const admin = await portal.ctx.services.auth.ensureAdmin();
  if (admin)
    console.log(`first start: sign in as ${admin.email} with the one-time password ${admin.password}`);
  onSignals(async () => {
    await app.close();
    await portal.close();
  });
}
