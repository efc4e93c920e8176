import type { AddressInfo } from "node:net";
import { Calls, type Clock, createRpcClient, generateSecret, ManualClock } from "@openlines/protocol";
import { openDatabase } from "@openlines/store";
import { type HubConfig, hubConfig } from "../../src/config.js";
import type { ConnectorDefinition } from "../../src/connectors/contract.js";
import type { QueuePort } from "../../src/lines/context.js";
import { createHub, type Hub } from "../../src/server.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { EchoPlatform, echoConnector, echoSign } from "./echo-connector.js";
import { FakeQueue } from "./fake-queue.js";

export const TEST_KEY = "test-hub-key-0123456789abcdef";
export const ADMIN_TOKEN = "admin-token-for-tests";

export interface TestHub {
  hub: Hub;
  url: string;
  platform: EchoPlatform;
  /** The fake queue, unless the real one was asked for. */
  queue: FakeQueue;
  clock: Clock;
  errors: unknown[];
  /**
   * Registers an active portal directly in the database and returns an RPC client for it (at a
   * port nothing listens on unless `baseUrl` is given; a new secret unless `secret` is).
   */
  addPortal(
    id: string,
    baseUrl?: string,
    secret?: string,
  ): Promise<{ id: string; secret: string; rpc: PortalRpc }>;
  /** POSTs a signed echo webhook. */
  webhook(hash: string, update: unknown, secret?: string): Promise<Response>;
  count(table: keyof HubDatabase): Promise<number>;
  close(): Promise<void>;
}

function rpcFor(url: string, portalId: string, secret: string, clock: Clock) {
  return createRpcClient(Calls, { baseUrl: url, portalId, secret, now: () => clock.now() });
}

/** A portal's RPC client towards a test hub. */
export type PortalRpc = ReturnType<typeof rpcFor>;

/** A hub on a fresh test database, listening on 127.0.0.1:0, with the echo connector and its fake platform. */
export async function startTestHub(
  dbUrl: string,
  o: {
    clock?: Clock;
    queue?: QueuePort | "real";
    connectors?: ConnectorDefinition[];
    config?: Partial<HubConfig>;
  } = {},
): Promise<TestHub> {
  const platform = new EchoPlatform();
  await platform.start();
  const clock = o.clock ?? new ManualClock(Date.now());
  const database = openDatabase<HubDatabase>(dbUrl);
  const fake = new FakeQueue();
  const errors: unknown[] = [];
  const config = hubConfig({
    key: TEST_KEY,
    host: "127.0.0.1",
    port: 0,
    adminToken: ADMIN_TOKEN,
    baseUrls: { echo: { api: platform.url } },
    ...o.config,
  });
  const hub = createHub(config, {
    clock,
    database,
    connectors: o.connectors ?? [echoConnector],
    queue: o.queue === "real" ? undefined : (o.queue ?? fake),
    log: { info() {}, warn() {}, error: (x) => errors.push(x) },
  });
  await hub.start();
  const url = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
  config.publicUrl = url;
  return {
    hub,
    url,
    platform,
    queue: fake,
    clock,
    errors,
    async addPortal(id, baseUrl = "http://127.0.0.1:9", secret = generateSecret()) {
      await hub.portals.create({ id, name: id, baseUrl, secret, state: "active" });
      return { id, secret, rpc: rpcFor(url, id, secret, clock) };
    },
    webhook(hash, update, secret = "echo-secret-1") {
      const body = JSON.stringify(update);
      return fetch(`${url}/webhook?line=${encodeURIComponent(hash)}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-echo-signature": echoSign(secret, body) },
        body,
      });
    },
    async count(table) {
      const r = await hub.services.db
        .selectFrom(table as any)
        .select((e) => e.fn.countAll<number>().as("n"))
        .executeTakeFirst();
      return Number((r as any)?.n ?? 0);
    },
    async close() {
      await hub.close();
      await database.close();
      await platform.stop();
    },
  };
}

/** The hash of a webhook URL. */
export function hashOf(webhookUrl: string): string {
  return new URL(webhookUrl).searchParams.get("line")!;
}

/** Re-checks `check` until it holds (events are async); fails after `timeoutMs`. */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
