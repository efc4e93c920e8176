import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "@openlines/protocol";
import { type Database, migrate, openDatabase } from "@openlines/store";
import Fastify, { type FastifyInstance } from "fastify";
import WebSocket from "ws";
import type {
  Connector,
  ConnectorContext,
  ConnectorDefinition,
  ConnectorRouteContext,
  InboundEvent,
} from "../../src/connectors/contract.js";
import { hubMigrations } from "../../src/store/migrations.js";
import type { HubDatabase } from "../../src/store/schema.js";

/**
 * A small stand-in for the hub around one connector's routes: lines kept in memory, `ingest`
 * recording the events, a real database for the connector's own tables, a real HTTP server on
 * 127.0.0.1 port 0. Used until (and beside) the integration tests through `createHub`.
 */
export interface Harness {
  app: FastifyInstance;
  base: string;
  clock: ManualClock;
  /** The database of the connector's own tables (undefined when none was asked for). */
  database?: Database<HubDatabase>;
  events: { hash: string; event: InboundEvent }[];
  lines: Map<string, { ctx: ConnectorContext; connector: Connector }>;
  /** What the connectors logged as errors. */
  errors: unknown[];
  addLine(hash: string, settings: unknown): { ctx: ConnectorContext; connector: Connector };
  /** Waits until an ingested event matches. */
  waitFor(pred: (e: InboundEvent) => boolean): Promise<InboundEvent>;
  /** Waits until `n` events of `type` were ingested and returns them. */
  waitEvents<T extends InboundEvent["type"]>(
    type: T,
    n?: number,
  ): Promise<Extract<InboundEvent, { type: T }>[]>;
  close(): Promise<void>;
}

export async function startHarness(
  definition: ConnectorDefinition,
  o: { url?: string; dialect?: "sqlite" | "postgres" | "mysql" } = {},
): Promise<Harness> {
  const tmp = mkdtempSync(join(tmpdir(), "openlines-lc-"));
  const database: Database<HubDatabase> | undefined = o.url ? openDatabase<HubDatabase>(o.url) : undefined;
  // only the live chat's own tables: these tests stand apart from the rest of the hub's schema
  if (database)
    await migrate(
      database.db,
      database.dialect,
      hubMigrations.filter((m) => m.name === "0005_livechat"),
      "hub",
    );
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 10));
  const app = Fastify({ logger: false });
  const events: Harness["events"] = [];
  const lines = new Map<string, { ctx: ConnectorContext; connector: Connector }>();
  const waiters = new Set<() => void>();
  const errors: unknown[] = [];
  let base = "";
  const hub: ConnectorRouteContext = {
    lineByHash: async (hash) => lines.get(hash),
    ingest: async (hash, evs) => {
      for (const event of evs) events.push({ hash, event });
      for (const w of waiters) w();
    },
    get publicUrl() {
      return base;
    },
    clock,
    db: database?.db as any,
    dialect: database?.dialect ?? "sqlite",
  };
  await definition.routes?.(app, hub);
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    app,
    base,
    clock,
    database,
    events,
    lines,
    errors,
    addLine(hash, raw) {
      const settings = definition.settings.parse(raw);
      const id = `lc_${hash}`;
      const ctx: ConnectorContext = {
        line: {
          id,
          portalId: "p1",
          lineId: `line-${hash}`,
          connector: definition.type,
          hash,
          webhookUrl: `${base}/webhook?line=${hash}`,
        },
        settings,
        baseUrl: () => base,
        publicUrl: base,
        clock,
        fetch,
        chatContext: { get: async () => undefined, set: async () => {} },
        fileLink: (ref, f) =>
          `${base}/files/test?ref=${encodeURIComponent(ref)}&name=${encodeURIComponent(f.name)}`,
        log: { info() {}, warn() {}, error: (o) => errors.push(o) },
      };
      const line = { ctx, connector: definition.create(ctx) };
      lines.set(hash, line);
      return line;
    },
    waitFor(pred) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = events.find((e) => pred(e.event));
          if (got) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got.event);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for an event; have ${JSON.stringify(events)}`));
        }, 10_000);
        waiters.add(check);
        check();
      });
    },
    waitEvents(type, n = 1) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = events.filter((e) => e.event.type === type).map((e) => e.event) as any[];
          if (got.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} ${type} event(s); have ${events.length} events`));
        }, 10_000);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await app.close();
      await database?.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** A visitor's socket with a frame inbox: `next(type)` resolves with the next frame of that type. */
export class VisitorSocket {
  readonly frames: any[] = [];
  readonly ws: WebSocket;
  #waiters = new Set<() => void>();
  #taken = new Set<any>();

  constructor(url: string, origin = "https://shop.example.com") {
    this.ws = new WebSocket(url, { headers: { origin } });
    this.ws.on("message", (d) => {
      this.frames.push(JSON.parse(String(d)));
      for (const w of this.#waiters) w();
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
      this.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(frame: object) {
    this.ws.send(JSON.stringify(frame));
  }

  next(type: string, pred: (f: any) => boolean = () => true): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.find((x) => x.type === type && !this.#taken.has(x) && pred(x));
        if (f) {
          this.#taken.add(f);
          this.#waiters.delete(check);
          clearTimeout(timer);
          resolve(f);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${type} frame; got ${JSON.stringify(this.frames)}`));
      }, 10_000);
      this.#waiters.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}
