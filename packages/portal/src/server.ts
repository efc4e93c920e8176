import { type Clock, errorReply, systemClock } from "@openlines/protocol";
import { openDatabase } from "@openlines/store";
import Fastify, { type FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { apiModule } from "./api/module.js";
import { authModule } from "./auth/module.js";
import { contactsModule } from "./contacts/module.js";
import type { PortalConfig, PortalContext, PortalServices } from "./context.js";
import { EventBus } from "./events/bus.js";
import { filesModule } from "./files/module.js";
import { hubModule } from "./hub/client.js";
import { inputModule } from "./input/module.js";
import { linesModule } from "./lines/module.js";
import { messagesModule } from "./messages/module.js";
import type { PortalModule } from "./module.js";
import { migratePortal, type PortalDatabase } from "./store/index.js";

/** The portal's modules, in registration order. Add a module with one line here. */
const modules: PortalModule[] = [
  authModule,
  hubModule(),
  contactsModule(),
  filesModule(),
  messagesModule(),
  inputModule(),
  linesModule,
  apiModule,
];

export interface Portal {
  app: FastifyInstance;
  ctx: PortalContext;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface CreatePortalOptions {
  clock?: Clock;
  log?: Logger;
  /** Mount on an existing Fastify app (the all-in-one start) instead of a new one. */
  app?: FastifyInstance;
}

/** Builds the portal: opens and migrates its database, registers every module's routes. */
export async function createPortal(config: PortalConfig, options: CreatePortalOptions = {}): Promise<Portal> {
  const log = options.log ?? pino({ level: process.env.LOG_LEVEL ?? "info", name: "portal" });
  const database = openDatabase<PortalDatabase>(config.databaseUrl);
  await migratePortal(database);
  const bus = new EventBus();
  bus.onError((event, error) => log.error({ event, err: error }, "event listener failed"));
  const ctx: PortalContext = {
    config,
    database,
    bus,
    clock: options.clock ?? systemClock,
    log,
    services: {} as PortalServices,
  };
  const app = options.app ?? Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  if (!options.app) installErrorHandler(app);
  for (const m of modules) await m.register(app, ctx);
  return {
    app,
    ctx,
    start: async () => {
      for (const m of modules) await m.start?.(ctx);
    },
    close: async () => {
      for (const m of [...modules].reverse()) await m.stop?.(ctx);
      if (!options.app) await app.close();
      await database.close();
    },
  };
}

/** One error handler maps typed errors to their status and JSON body; anything else is a 500. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const r = errorReply(error);
    if (r.internal) request.log?.error?.({ err: error }, "unhandled error");
    return reply.status(r.status).send(r.body);
  });
}
