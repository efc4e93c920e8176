/**
 * A whole hub (createHub: webhook entry, pipeline, queue, RPC, outbox) in its own process for the
 * SIGKILL fault test, with the Telegram connector pointed at the test's fake Bot API. Short queue
 * timings (lease 1 s, blocks 200 ms) so a restarted hub takes over quickly. The outbox's claim of a
 * row lasts 60 s (fixed in the worker): `OL_CLOCK_OFFSET_MS` moves this process's clock ahead so
 * a restarted hub sees the dead one's claims as expired, without waiting a minute. Prints
 * `READY <port>`; nothing here shuts down cleanly on purpose.
 */
import type { AddressInfo } from "node:net";
import { type Clock, systemClock } from "@openlines/protocol";
import { openDatabase } from "@openlines/store";
import { hubConfig } from "../../src/config.js";
import { telegram } from "../../src/connectors/telegram/index.js";
import { createQueue } from "../../src/queue/index.js";
import { createHub } from "../../src/server.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { SecretBox } from "../../src/store/settings-crypto.js";

const env = process.env as Record<string, string>;
const offset = Number(env.OL_CLOCK_OFFSET_MS ?? 0);
const clock: Clock = { now: () => Date.now() + offset, setTimer: (ms, fn) => systemClock.setTimer(ms, fn) };
const database = openDatabase<HubDatabase>(env.OL_DB_URL, { poolSize: 6 });
const queue = createQueue({
  database,
  box: new SecretBox(env.OL_HUB_KEY),
  clock,
  leaseMs: 1000,
  requestTimeoutMs: 3000,
  crossInstanceCheckMs: 0,
  batchMaxPackets: 20,
  schedule: { blocksMs: [200], finalBlockMs: 500, expireAfterMs: 3_600_000 },
});
const config = hubConfig({
  key: env.OL_HUB_KEY,
  host: "127.0.0.1",
  port: 0,
  baseUrls: { telegram: { api: env.OL_TELEGRAM_API } },
  outbox: { retryBaseMs: 200, retryMaxMs: 1000, giveUpAfterMs: 3_600_000 },
  rateLimits: {
    perLinePerSecond: 1000,
    perLineBurst: 1000,
    perPlatformPerSecond: 1000,
    perPlatformBurst: 1000,
  },
});
const quiet = () => {};
const hub = createHub(config, {
  clock,
  database,
  queue,
  connectors: [telegram],
  log: { info: quiet, warn: quiet, error: (o) => console.error("hub error", o) },
});
queue.events.on("worker:error", (e) => console.error(`hub queue worker error (${e.where}):`, e.error));
await hub.start();
const port = (hub.app.server.address() as AddressInfo).port;
config.publicUrl = `http://127.0.0.1:${port}`;
process.stdout.write(`READY ${port}\n`);
