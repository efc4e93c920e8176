import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { QueueOptions } from "./queue/interfaces.js";

/**
 * The hub's settings, read once from the environment (`loadHubConfig`). Every field has a default
 * except the key outside development. Units are in the names.
 */
export interface HubConfig {
  /** `sqlite:<file>`, `postgres://…` or `mysql://…`. Default `sqlite:./data/hub.db`. */
  databaseUrl: string;
  /** Seals secrets at rest and derives the file-link key. Required outside development. */
  key: string;
  /** Bearer token of the admin API (`/admin/*`); the API is closed when unset. */
  adminToken?: string;
  /** Public URL platforms and portals reach the hub at; webhook URLs are built from it. */
  publicUrl: string;
  /** Listen address when the hub owns its HTTP server. */
  host: string;
  port: number;
  /** Platform base URL overrides by connector and name: `{telegram: {api: "http://127.0.0.1:9000"}}`. */
  baseUrls: Record<string, Record<string, string>>;
  /** Largest webhook or RPC body accepted. Default 1 MiB. */
  bodyLimitBytes: number;
  /** How long raw webhook bodies are kept for `reparse`. Default 7 days. */
  rawWebhookRetentionMs: number;
  /** How long a queued platform event id is remembered against re-deliveries. Default 7 days. */
  platformEventRetentionMs: number;
  /** How long the platform id of a sent message is kept for edits and deletes. Default 90 days. */
  sentMessageRetentionMs: number;
  /** How long a hub file link stays valid. Default 7 days (the queue may hold a packet 24 h). */
  fileLinkTtlMs: number;
  /** Replay window of signed RPC calls. Default 5 minutes (Standard Webhooks' tolerance). */
  rpcToleranceSeconds: number;
  /** Default outgoing rate limits when a connector declares none. */
  rateLimits: {
    perLinePerSecond: number;
    perLineBurst: number;
    perPlatformPerSecond: number;
    perPlatformBurst: number;
  };
  outbox: {
    /** First retry delay; doubles with each failed try. Default 1 s. */
    retryBaseMs: number;
    /** Longest delay between tries. Default 10 minutes. */
    retryMaxMs: number;
    /** After this long since the call, a failing message is reported as failed. Default 24 h. */
    giveUpAfterMs: number;
  };
  /**
   * The delivery queue towards portals (docs/queue.md): block schedule, batch limits, timeouts.
   * Unset fields keep the queue's defaults (blocks 1 min … 8 h, final block 12 h, expiry 24 h).
   */
  queue: Pick<
    QueueOptions,
    | "schedule"
    | "batchMaxPackets"
    | "batchMaxBytes"
    | "requestTimeoutMs"
    | "ackDeadlineMs"
    | "leaseMs"
    | "concurrency"
    | "lingerMs"
  >;
  /** Period of the health check of active lines. Default 15 minutes. */
  healthCheckIntervalMs: number;
  /** Period of the pruning of raw webhooks, event ids and seen request ids. Default 1 hour. */
  pruneIntervalMs: number;
}

const DAY = 24 * 3600_000;

export const hubDefaults: Omit<HubConfig, "key"> = {
  databaseUrl: "sqlite:./data/hub.db",
  publicUrl: "http://127.0.0.1:8080",
  host: "127.0.0.1",
  port: 8080,
  baseUrls: {},
  bodyLimitBytes: 1024 * 1024,
  rawWebhookRetentionMs: 7 * DAY,
  platformEventRetentionMs: 7 * DAY,
  fileLinkTtlMs: 7 * DAY,
  sentMessageRetentionMs: 90 * DAY,
  rpcToleranceSeconds: 300,
  rateLimits: { perLinePerSecond: 5, perLineBurst: 10, perPlatformPerSecond: 50, perPlatformBurst: 100 },
  outbox: { retryBaseMs: 1000, retryMaxMs: 10 * 60_000, giveUpAfterMs: DAY },
  queue: {},
  healthCheckIntervalMs: 15 * 60_000,
  pruneIntervalMs: 3600_000,
};

/** Builds a full config from a partial one (tests, the all-in-one start). */
export function hubConfig(partial: Partial<HubConfig> & { key: string }): HubConfig {
  return {
    ...hubDefaults,
    ...partial,
    rateLimits: { ...hubDefaults.rateLimits, ...partial.rateLimits },
    outbox: { ...hubDefaults.outbox, ...partial.outbox },
  };
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got "${raw}".`);
  return n;
}

/**
 * Reads the hub's settings from the environment. `OPENLINES_BASEURL_<CONNECTOR>[_<NAME>]` overrides a
 * platform base URL (name defaults to `api`): `OPENLINES_BASEURL_TELEGRAM=http://127.0.0.1:9000`,
 * `OPENLINES_BASEURL_BOTFRAMEWORK_LOGIN=…`. In development (`dev: true`, the all-in-one start) a
 * missing key is generated once and kept in `./data/hub.key`.
 */
export function loadHubConfig(env: NodeJS.ProcessEnv = process.env, o: { dev?: boolean } = {}): HubConfig {
  let key = env.OPENLINES_HUB_KEY ?? "";
  if (!key) {
    if (!o.dev) throw new Error("OPENLINES_HUB_KEY is required: a random secret of at least 16 characters.");
    key = devKey(env.OPENLINES_HUB_KEY_FILE ?? "./data/hub.key");
  }
  const baseUrls: HubConfig["baseUrls"] = {};
  for (const [name, value] of Object.entries(env)) {
    const m = /^OPENLINES_BASEURL_([A-Z0-9]+)(?:_([A-Z0-9_]+))?$/.exec(name);
    if (!m || !value) continue;
    const connector = m[1].toLowerCase();
    const which = (m[2] ?? "api").toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    baseUrls[connector] = { ...baseUrls[connector], [which]: value };
  }
  const port = num(env, "OPENLINES_HUB_PORT", hubDefaults.port);
  const optional = (name: string) => (env[name] ? num(env, name, 0) : undefined);
  const blocks = env.OPENLINES_HUB_QUEUE_BLOCKS_MS;
  const blocksMs = blocks
    ? blocks.split(",").map((v) => {
        const n = Number(v.trim());
        if (!Number.isFinite(n) || n <= 0)
          throw new Error(
            `OPENLINES_HUB_QUEUE_BLOCKS_MS must be a comma-separated list of positive numbers, got "${blocks}".`,
          );
        return n;
      })
    : undefined;
  const queue: HubConfig["queue"] = {
    schedule: {
      blocksMs,
      finalBlockMs: optional("OPENLINES_HUB_QUEUE_FINAL_BLOCK_MS"),
      expireAfterMs: optional("OPENLINES_HUB_QUEUE_EXPIRE_AFTER_MS"),
    },
    batchMaxPackets: optional("OPENLINES_HUB_QUEUE_BATCH_MAX_PACKETS"),
    batchMaxBytes: optional("OPENLINES_HUB_QUEUE_BATCH_MAX_BYTES"),
    requestTimeoutMs: optional("OPENLINES_HUB_QUEUE_REQUEST_TIMEOUT_MS"),
    ackDeadlineMs: optional("OPENLINES_HUB_QUEUE_ACK_DEADLINE_MS"),
    leaseMs: optional("OPENLINES_HUB_QUEUE_LEASE_MS"),
    concurrency: optional("OPENLINES_HUB_QUEUE_CONCURRENCY"),
    lingerMs: optional("OPENLINES_HUB_QUEUE_LINGER_MS"),
  };
  return hubConfig({
    key,
    databaseUrl: env.OPENLINES_HUB_DATABASE_URL || hubDefaults.databaseUrl,
    adminToken: env.OPENLINES_HUB_ADMIN_TOKEN || undefined,
    publicUrl: (env.OPENLINES_HUB_PUBLIC_URL || `http://127.0.0.1:${port}`).replace(/\/+$/, ""),
    host: env.OPENLINES_HUB_HOST || hubDefaults.host,
    port,
    baseUrls,
    bodyLimitBytes: num(env, "OPENLINES_HUB_BODY_LIMIT_BYTES", hubDefaults.bodyLimitBytes),
    rawWebhookRetentionMs: num(
      env,
      "OPENLINES_HUB_RAW_WEBHOOK_RETENTION_MS",
      hubDefaults.rawWebhookRetentionMs,
    ),
    platformEventRetentionMs: num(
      env,
      "OPENLINES_HUB_EVENT_RETENTION_MS",
      hubDefaults.platformEventRetentionMs,
    ),
    fileLinkTtlMs: num(env, "OPENLINES_HUB_FILE_LINK_TTL_MS", hubDefaults.fileLinkTtlMs),
    sentMessageRetentionMs: num(
      env,
      "OPENLINES_HUB_SENT_MESSAGE_RETENTION_MS",
      hubDefaults.sentMessageRetentionMs,
    ),
    rpcToleranceSeconds: num(env, "OPENLINES_HUB_RPC_TOLERANCE_SECONDS", hubDefaults.rpcToleranceSeconds),
    healthCheckIntervalMs: num(env, "OPENLINES_HUB_HEALTH_INTERVAL_MS", hubDefaults.healthCheckIntervalMs),
    queue,
    pruneIntervalMs: num(env, "OPENLINES_HUB_PRUNE_INTERVAL_MS", hubDefaults.pruneIntervalMs),
    rateLimits: {
      perLinePerSecond: num(
        env,
        "OPENLINES_HUB_RATE_LINE_PER_SECOND",
        hubDefaults.rateLimits.perLinePerSecond,
      ),
      perLineBurst: num(env, "OPENLINES_HUB_RATE_LINE_BURST", hubDefaults.rateLimits.perLineBurst),
      perPlatformPerSecond: num(
        env,
        "OPENLINES_HUB_RATE_PLATFORM_PER_SECOND",
        hubDefaults.rateLimits.perPlatformPerSecond,
      ),
      perPlatformBurst: num(
        env,
        "OPENLINES_HUB_RATE_PLATFORM_BURST",
        hubDefaults.rateLimits.perPlatformBurst,
      ),
    },
    outbox: {
      ...hubDefaults.outbox,
      giveUpAfterMs: num(env, "OPENLINES_HUB_OUTBOX_GIVE_UP_MS", hubDefaults.outbox.giveUpAfterMs),
    },
  });
}

function devKey(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const key = randomBytes(32).toString("base64");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
