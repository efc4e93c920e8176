import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Clock, ManualClock } from "@openlines/protocol";
import { openDatabase } from "@openlines/store";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { contactsModule } from "../../src/contacts/module.js";
import type { PortalConfig, PortalContext, PortalServices } from "../../src/context.js";
import { EventBus, type PortalEvents } from "../../src/events/bus.js";
import { filesModule } from "../../src/files/module.js";
import { hubModule } from "../../src/hub/client.js";
import { inputModule } from "../../src/input/module.js";
import { messagesModule } from "../../src/messages/module.js";
import type { PortalModule } from "../../src/module.js";
import { installErrorHandler } from "../../src/server.js";
import { migratePortal, type PortalDatabase } from "../../src/store/index.js";
import { HubStub, signedDelivery } from "./hub-stub.js";

export interface CorePortal {
  app: FastifyInstance;
  ctx: PortalContext;
  hub: HubStub;
  clock: Clock;
  events: Array<{ event: string; payload: any }>;
  /** Posts a signed delivery of these packets to /connector/input. */
  deliver(packets: unknown[], o?: { secret?: string; now?: number }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/**
 * The core modules only (hub client, contacts, files, messages, input) on a fresh database and a
 * hub stub: what the core tests need, without the lines module reacting to their events.
 */
export async function startCorePortal(
  databaseUrl: string,
  o: {
    clock?: Clock;
    config?: Partial<PortalConfig>;
    modules?: PortalModule[];
    /** Listen on 127.0.0.1 at this port (0 = any) for a real hub to reach; default: inject only. */
    listenPort?: number;
  } = {},
): Promise<CorePortal> {
  const clock = o.clock ?? new ManualClock(Date.now());
  const hub = await new HubStub(() => clock.now()).start();
  const filesDir = mkdtempSync(join(tmpdir(), "openlines-files-"));
  const config: PortalConfig = {
    portalId: "portal-1",
    publicUrl: "http://portal.test",
    databaseUrl,
    hubUrl: hub.url,
    hubSecret: hub.secret,
    filesDir,
    allowPrivateAddresses: true,
    ...o.config,
  };
  const database = openDatabase<PortalDatabase>(databaseUrl, { poolSize: 4 });
  await migratePortal(database);
  const bus = new EventBus();
  const log = pino({ level: process.env.LOG_LEVEL ?? "silent" });
  bus.onError((event, error) => log.error({ event, err: error }, "listener failed"));
  const ctx: PortalContext = { config, database, bus, clock, log, services: {} as PortalServices };
  const app = Fastify({ logger: false });
  installErrorHandler(app);
  const modules = o.modules ?? [
    hubModule(),
    contactsModule(),
    filesModule(),
    messagesModule(),
    inputModule(),
  ];
  for (const m of modules) await m.register(app, ctx);
  for (const m of modules) await m.start?.(ctx);
  if (o.listenPort !== undefined) await app.listen({ host: "127.0.0.1", port: o.listenPort });
  const events: CorePortal["events"] = [];
  const record = (event: keyof PortalEvents) =>
    bus.on(event, (payload) => void events.push({ event, payload }));
  for (const e of [
    "message.received",
    "message.updated",
    "message.created",
    "chat.typing",
    "chat.closedByUser",
    "chat.welcome",
    "chat.read",
    "line.deactivated",
    "contact.updated",
    "contact.merged",
    "file.updated",
    "hub.testConnection",
  ] as const) {
    record(e);
  }
  return {
    app,
    ctx,
    hub,
    clock,
    events,
    async deliver(packets, d = {}) {
      // As the hub does: `line` when every packet is of one line.
      const lines = new Set(packets.map((p) => (p as { line?: string } | null)?.line));
      const { body, headers } = signedDelivery(
        d.secret ?? hub.secret,
        "portal-1",
        lines.size === 1 ? [...lines][0] : undefined,
        packets,
        d.now ?? clock.now(),
      );
      const res = await app.inject({ method: "POST", url: "/connector/input", headers, payload: body });
      return { status: res.statusCode, body: res.json() };
    },
    async close() {
      for (const m of [...modules].reverse()) await m.stop?.(ctx);
      await app.close();
      await database.close();
      await hub.close();
      rmSync(filesDir, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on 127.0.0.1 (for a portal whose URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Counts rows of a core table. */
export async function count(ctx: PortalContext, table: keyof PortalDatabase): Promise<number> {
  const r = await ctx.database.db
    .selectFrom(table as any)
    .select((eb) => eb.fn.countAll().as("n"))
    .executeTakeFirstOrThrow();
  return Number((r as { n: unknown }).n);
}

/** Polls until `fn` returns a truthy value (no sleeps to wait for a condition in tests). */
export async function until<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  o: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const end = Date.now() + (o.timeoutMs ?? 10_000);
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${o.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
