import type { Clock } from "@openlines/protocol";
import type { Database } from "@openlines/store";
import type pg from "pg";
import type { HubDatabase } from "../store/schema.js";
import { NOTIFY_CHANNEL, signalVersion } from "./sql.js";

/** Tells this instance that another one changed the queue (new packets, an ack, a re-drive). */
export interface CrossInstanceWake {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface WakeOptions {
  database: Database<HubDatabase>;
  clock: Clock;
  instanceId: string;
  checkMs: number;
  wake(): void;
  onError(error: unknown): void;
}

/**
 * The cheapest honest way per dialect to hear about other instances' changes:
 * - PostgreSQL: LISTEN on a dedicated pooled client; every commit that changes the queue sends
 *   NOTIFY with the sender's instance id (our own notifications are ignored). No timer at all.
 * - MySQL/MariaDB: no NOTIFY exists. Writers bump one counter row (`queue_signal`) in their
 *   transaction; one timer per instance reads that single row every `checkMs`. Never per line.
 * - SQLite: several processes on one file see each other's commits through `PRAGMA data_version`,
 *   a read of shared memory that touches no table; same single timer.
 * `checkMs = 0` turns the timer off (one instance only).
 */
export function crossInstanceWake(o: WakeOptions): CrossInstanceWake {
  if (o.database.dialect === "postgres") return pgListen(o);
  return counterCheck(o);
}

function pgListen(o: WakeOptions): CrossInstanceWake {
  let client: { c: pg.PoolClient; release(error?: Error): void } | undefined;
  let stopped = false;
  let retry: { cancel(): void } | undefined;
  const onNotification = (m: pg.Notification) => {
    if (m.channel === NOTIFY_CHANNEL && m.payload !== o.instanceId) o.wake();
  };
  const connect = async (): Promise<void> => {
    const pool = o.database.pgPool;
    if (!pool) throw new Error("PostgreSQL database without a pool");
    const c = await pool.connect();
    // A pooled client must go back exactly once, and without our listeners: a later error on the
    // same client (after stop) would otherwise release it a second time and pg-pool throws.
    let released = false;
    const release = (error?: Error) => {
      if (released) return;
      released = true;
      c.off("notification", onNotification);
      c.off("error", onError);
      c.release(error);
    };
    const onError = (error: Error) => {
      o.onError(error);
      release(error);
      if (client?.c === c) client = undefined;
      if (!stopped) {
        // Reconnect, then look at the queue once: notifications sent meanwhile were lost.
        retry = o.clock.setTimer(1000, () => {
          connect()
            .then(() => o.wake())
            .catch(o.onError);
        });
      }
    };
    c.on("notification", onNotification);
    c.on("error", onError);
    await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
    if (stopped) {
      release();
      return;
    }
    client = { c, release };
  };
  return {
    start: connect,
    async stop() {
      stopped = true;
      retry?.cancel();
      const held = client;
      client = undefined;
      if (held) {
        try {
          await held.c.query(`UNLISTEN ${NOTIFY_CHANNEL}`);
          held.release();
        } catch (error) {
          held.release(error as Error);
        }
      }
    },
  };
}

function counterCheck(o: WakeOptions): CrossInstanceWake {
  let timer: { cancel(): void } | undefined;
  let last: number | undefined;
  let stopped = false;
  const read = async (): Promise<number> => {
    if (o.database.dialect === "sqlite") {
      return Number(o.database.sqlite?.pragma("data_version", { simple: true }) ?? 0);
    }
    return signalVersion(o.database.db);
  };
  // The next check is armed only once this read has finished: one read at a time, whatever the
  // clock does (a manual clock moved a day ahead must not start 86,400 reads at once).
  const tick = async () => {
    try {
      const v = await read();
      if (last !== undefined && v !== last) o.wake();
      last = v;
    } catch (error) {
      o.onError(error);
    }
    if (!stopped) timer = o.clock.setTimer(o.checkMs, () => void tick());
  };
  return {
    async start() {
      if (o.checkMs <= 0) return;
      last = await read();
      timer = o.clock.setTimer(o.checkMs, () => void tick());
    },
    async stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
