import { type Clock, errorReply, OpenlinesError, systemClock } from "@openlines/protocol";
import { type Database, migrate, openDatabase } from "@openlines/store";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import pino from "pino";
import { adminRoutes } from "./admin/routes.js";
import type { HubConfig } from "./config.js";
import type { ConnectorDefinition, ConnectorRouteContext } from "./connectors/contract.js";
import { createIngest } from "./connectors/pipeline/ingest.js";
import { builtinConnectors, createRegistry } from "./connectors/registry.js";
import { fileRoutes } from "./files/routes.js";
import { fileTokens } from "./files/token.js";
import { healthChecker } from "./health/check.js";
import { chatContexts } from "./lines/chat-context.js";
import type { HubLog, HubServices, QueuePort } from "./lines/context.js";
import { HubEventEmitter } from "./lines/events.js";
import { connectorInstances } from "./lines/instances.js";
import { lineRepository } from "./lines/repository.js";
import { lineService } from "./lines/service.js";
import { outboxStore } from "./outbox/store.js";
import { type OutboxEvents, outboxWorker } from "./outbox/worker.js";
import { PortalRepository } from "./portals/index.js";
import { createQueue } from "./queue/index.js";
import { rpcHandlers } from "./rpc/methods.js";
import { rpcRoutes } from "./rpc/routes.js";
import { hubMigrations } from "./store/migrations.js";
import type { HubDatabase } from "./store/schema.js";
import { SecretBox } from "./store/settings-crypto.js";
import { pruner } from "./webhook/prune.js";
import { rawWebhooks } from "./webhook/raw-store.js";
import { createReparse, type ReparseTarget } from "./webhook/reparse.js";
import { webhookRoutes } from "./webhook/routes.js";

export interface HubDeps {
  clock?: Clock;
  fetch?: typeof fetch;
  log?: HubLog;
  /** Mount on this Fastify app (the all-in-one start); otherwise the hub creates and listens on its own. */
  app?: FastifyInstance;
  /** The connectors installed; default the registry's built-in list. */
  connectors?: ConnectorDefinition[];
  /** An open database (tests, the all-in-one start); otherwise opened from `config.databaseUrl`. */
  database?: Database<HubDatabase>;
  /** The queue towards portals; default `createQueue` on the same database. */
  queue?: QueuePort;
  /** Where the admin API lives. Default `/admin`. */
  adminPrefix?: string;
  outboxEvents?: OutboxEvents;
}

export interface Hub {
  app: FastifyInstance;
  queue: QueuePort;
  services: HubServices;
  /** Typed events for logs and metrics: webhook accepted/refused, outbox done/retry/failed, line needs attention. */
  events: HubEventEmitter;
  /** Migrates the database, starts the queue, the outbox, the health check and pruning; listens when it owns the app. */
  start(): Promise<void>;
  /** Only the migrations (what `start` does first): for commands that use the hub without serving. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Re-parses stored webhook bodies and re-queues them (the `openlines reparse` command). */
  reparse: ReturnType<typeof createReparse>;
  health: ReturnType<typeof healthChecker>;
  outbox: ReturnType<typeof outboxWorker>;
  prune: ReturnType<typeof pruner>;
  portals: PortalRepository;
}

function sendError(hub: { log: HubLog }) {
  return (error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const r = errorReply(error);
    if (r.internal) hub.log.error({ err: error, url: req.url.split("?")[0] }, "request failed");
    return reply.status(r.status).type("application/json").send(r.body);
  };
}

/**
 * Assembles the hub (DESIGN 3): the single webhook entry, the portal-facing RPC, hub file links,
 * the admin API and the connectors' own routes, over one database, queue and outbox. Mountable
 * on an existing Fastify app; the webhook and RPC routes keep the raw body bytes (signatures are
 * computed over them) in an encapsulated scope, so the host app's own parsers are untouched.
 */
export function createHub(config: HubConfig, deps: HubDeps = {}): Hub {
  const clock = deps.clock ?? systemClock;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const log: HubLog = deps.log ?? pino({ name: "hub" });
  const ownDatabase = !deps.database;
  const database = deps.database ?? openDatabase<HubDatabase>(config.databaseUrl);
  const box = new SecretBox(config.key);
  const registry = createRegistry(deps.connectors ?? builtinConnectors);
  const events = new HubEventEmitter();
  const queue: QueuePort =
    // Delivery to portals uses the queue's own undici client unless a fetch was injected (tests).
    deps.queue ?? createQueue({ ...config.queue, database, box, clock, fetch: deps.fetch });
  const services: HubServices = {
    db: database.db,
    dialect: database.dialect,
    box,
    clock,
    fetch: doFetch,
    log,
    config,
    registry,
    queue,
    events,
  };
  events
    .on("webhook:refused", (e) => log.info(e, "webhook refused"))
    .on("outbox:retry", (e) => log.info(e, "platform call will be retried"))
    .on("outbox:failed", (e) => log.warn(e, "outgoing message failed"))
    .on("line:needsAttention", (e) => log.warn(e, "line needs an administrator"));
  const lines = lineRepository(services);
  const contexts = chatContexts(services);
  const tokens = fileTokens(config.key);
  const instances = connectorInstances(services, lines, contexts, tokens);
  const service = lineService(services, lines, contexts, instances);
  const ingest = createIngest(services, contexts);
  const raw = rawWebhooks(services);
  const outStore = outboxStore(services);
  const worker = outboxWorker(services, outStore, lines, contexts, instances, deps.outboxEvents);
  const handlers = rpcHandlers(services, service, outStore, worker);
  const portals = new PortalRepository(database.db, box, () => clock.now());
  const reparse = createReparse(services, { lines, instances, ingest, raw });
  const health = healthChecker(services, lines, instances, service);
  const prune = pruner(services);

  const ownApp = !deps.app;
  const app = deps.app ?? Fastify({ bodyLimit: config.bodyLimitBytes });
  const onError = sendError(services);

  const routeContext: ConnectorRouteContext = {
    async lineByHash(hash) {
      const row = await lines.byHash(hash);
      if (row?.status !== "active") return undefined;
      const { ctx, connector } = await instances.get(row);
      return { ctx, connector };
    },
    async ingest(hash, events) {
      const row = await lines.byHash(hash);
      if (!row) throw new OpenlinesError("LINE_UNKNOWN");
      if (row.status !== "active") throw new OpenlinesError("LINE_INACTIVE");
      await ingest(row, events);
    },
    publicUrl: config.publicUrl,
    clock,
    db: database.db,
    dialect: database.dialect,
  };

  app.register(async (scope) => {
    scope.setErrorHandler(onError);
    // Raw bytes for everything signed: the webhook entry and the portal's calls.
    await scope.register(async (rawScope) => {
      rawScope.removeAllContentTypeParsers();
      rawScope.addContentTypeParser(
        "*",
        { parseAs: "buffer", bodyLimit: config.bodyLimitBytes },
        (_req, body, done) => done(null, body),
      );
      webhookRoutes(rawScope, services, { lines, instances, ingest, raw });
      rpcRoutes(rawScope, services, portals, handlers);
    });
    await scope.register(async (adminScope) => adminRoutes(adminScope, services, portals, deps.adminPrefix));
    fileRoutes(scope, services, { tokens, lines, instances });
    scope.get("/hub/healthz", async () => ({ ok: true }));
    if (ownApp) scope.get("/healthz", async () => ({ ok: true }));
    for (const def of registry.definitions()) {
      if (!def.routes) continue;
      await scope.register(async (child) => {
        child.setErrorHandler(onError);
        await def.routes!(child, routeContext);
      });
    }
  });
  if (ownApp) {
    app.setErrorHandler(onError);
    app.setNotFoundHandler((_req, reply) => {
      const r = errorReply(new OpenlinesError("NOT_FOUND"));
      return reply.status(r.status).send(r.body);
    });
  }

  let started = false;
  return {
    app,
    queue,
    services,
    events,
    reparse,
    health,
    outbox: worker,
    prune,
    portals,
    async migrate() {
      await migrate(database.db, database.dialect, hubMigrations, "hub");
    },
    async start() {
      await migrate(database.db, database.dialect, hubMigrations, "hub");
      await queue.start();
      await worker.start();
      health.start();
      prune.start();
      started = true;
      if (ownApp) await app.listen({ host: config.host, port: config.port });
    },
    async close() {
      health.stop();
      prune.stop();
      if (started) {
        await worker.stop();
        await queue.stop();
      }
      if (ownApp) await app.close();
      if (ownDatabase) await database.close();
    },
  };
}

/**
 * `openlines reparse`: parses stored webhook bodies again with the current connector code and
 * queues the result, without serving HTTP. A running hub delivers the new packets (the queue
 * wakes other instances through the database).
 */
export async function reparseStored(
  config: HubConfig,
  target: ReparseTarget,
  deps: Omit<HubDeps, "app"> = {},
): Promise<{ bodies: number; queued: number; failed: number }> {
  const app = Fastify();
  const hub = createHub(config, { ...deps, app });
  try {
    await hub.migrate();
    return await hub.reparse(target);
  } finally {
    await hub.close();
    await app.close();
  }
}
