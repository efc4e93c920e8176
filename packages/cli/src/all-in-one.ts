import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { builtinConnectors, createHub, type Hub, loadHubConfig, testPortal } from "@openlines/hub";
import { createLivechat } from "@openlines/hub/connectors/livechat/index";
import { createPortal, installErrorHandler, type Portal } from "@openlines/portal/server";
import { generateSecret } from "@openlines/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { demoRoute, ensureDemo } from "./demo.js";
import { serveWorkspace } from "./workspace.js";

export interface AllInOneOptions {
  /** Port to listen on; 0 picks a free one. Default `PORT` or 8080. */
  port?: number;
  host?: string;
  /** Where the SQLite files, keys and stored files live. Default `./data`. */
  dataDir?: string;
  /** The address people and platforms reach this server at. Default `http://localhost:<port>`. */
  publicUrl?: string;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Create the demo line and the `/demo` page. Default true. */
  demo?: boolean;
}

export interface AllInOne {
  app: FastifyInstance;
  hub: Hub;
  portal: Portal;
  url: string;
  /** The first start's admin sign-in, when one was created now. */
  admin: { email: string; password: string } | null;
  demo: { lineId: string; lineHash: string } | null;
  close(): Promise<void>;
}

const PORTAL_ID = "local";

interface LocalPortalFile {
  portalId: string;
  hubSecret: string;
}

/** The secret the embedded hub issued to the embedded portal, kept in the data folder (0600). */
function localPortalSecret(dataDir: string): { file: LocalPortalFile; created: boolean } {
  const path = join(dataDir, "portal.json");
  if (existsSync(path))
    return { file: JSON.parse(readFileSync(path, "utf8")) as LocalPortalFile, created: false };
  const file = { portalId: PORTAL_ID, hubSecret: generateSecret() };
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  return { file, created: true };
}

/**
 * The embedded default (`npm start`): hub, portal and workspace in one process on one port, SQLite
 * under the data folder. The hub's routes (`/webhook`, `/rpc/…`, live chat, files) and the
 * portal's (`/connector/input`, `/api/…`, the workspace at `/`) share one Fastify app. On the first
 * start it registers the portal on the hub, creates an admin with a one-time password and a demo
 * live-chat line.
 */
export async function startAllInOne(o: AllInOneOptions = {}): Promise<AllInOne> {
  const env = o.env ?? process.env;
  const dataDir = resolve(o.dataDir ?? env.OPENLINES_DATA_DIR ?? "./data");
  mkdirSync(dataDir, { recursive: true });
  const host = o.host ?? env.HOST ?? "0.0.0.0";
  const log = o.log ?? pino({ level: env.LOG_LEVEL ?? "info" });
  const app = Fastify({ bodyLimit: 10 * 1024 * 1024, logger: false });
  installErrorHandler(app);
  const requestedPort = o.port ?? Number(env.PORT ?? 8080);

  const { file: local } = localPortalSecret(dataDir);
  // Routes must be registered before listen; the public URL needs the port. Pick it now.
  const port = requestedPort === 0 ? await freePort(host) : requestedPort;
  const publicUrl = (o.publicUrl ?? env.OPENLINES_PUBLIC_URL ?? `http://localhost:${port}`).replace(
    /\/+$/,
    "",
  );

  const hubConfig = loadHubConfig(
    {
      ...env,
      OPENLINES_HUB_DATABASE_URL: env.OPENLINES_HUB_DATABASE_URL ?? `sqlite:${join(dataDir, "hub.db")}`,
      OPENLINES_HUB_KEY_FILE: env.OPENLINES_HUB_KEY_FILE ?? join(dataDir, "hub.key"),
      OPENLINES_HUB_PUBLIC_URL: publicUrl,
    },
    { dev: true },
  );
  // Visitors' uploads live in the data folder too, not in the working directory.
  const livechat = createLivechat({ uploadDir: join(dataDir, "livechat-uploads") });
  const connectors = builtinConnectors.map((d) => (d.type === livechat.type ? livechat : d));
  const hub = createHub(hubConfig, { app, connectors, log: log.child({ name: "hub" }) });
  const portal = await createPortal(
    {
      portalId: local.portalId,
      publicUrl,
      databaseUrl: env.OPENLINES_PORTAL_DATABASE_URL ?? `sqlite:${join(dataDir, "portal.db")}`,
      hubUrl: publicUrl,
      hubSecret: local.hubSecret,
      filesDir: join(dataDir, "files"),
      // The portal downloads file links from its own embedded hub, on this very machine.
      allowPrivateAddresses: true,
    },
    { app, log: log.child({ name: "portal" }) },
  );
  app.get("/healthz", async () => ({ ok: true, hub: "up", portal: "up" }));
  serveWorkspace(app);
  let demo: AllInOne["demo"] = null;
  if (o.demo !== false) demoRoute(app, () => demo?.lineHash);

  await hub.start();
  if (!(await hub.portals.get(local.portalId))) {
    await hub.portals.create({
      id: local.portalId,
      name: "This server's portal",
      baseUrl: publicUrl,
      secret: local.hubSecret,
      state: "pending",
    });
  } else {
    // The port or public URL may differ from the last start.
    await hub.portals.update(local.portalId, { baseUrl: publicUrl, secret: local.hubSecret });
  }
  await portal.start();
  await app.listen({ port, host });

  const test = await testPortal({ portals: hub.portals, clock: hub.services.clock, fetch }, local.portalId);
  if (test.state !== "active") {
    log.warn({ error: test.error }, "the embedded portal did not answer the hub's test call");
  }
  const admin = await portal.ctx.services.auth.ensureAdmin();
  if (o.demo !== false) demo = await ensureDemo(portal, publicUrl, log);

  let closing: Promise<void> | undefined;
  return {
    app,
    hub,
    portal,
    url: publicUrl,
    admin,
    demo,
    close: () => {
      closing ??= (async () => {
        await app.close();
        await portal.close();
        await hub.close();
      })();
      return closing;
    },
  };
}

async function freePort(host: string): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, host, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}
