import type { Clock, DeadLetter, Packet } from "@openlines/protocol";
import type { Database } from "@openlines/store";
import type { Dispatcher } from "undici";
import type { HubDatabase } from "../store/schema.js";
import type { SecretBox } from "../store/settings-crypto.js";

/**
 * The durable queue towards portals (DESIGN 3.5). Every option is optional but the database and
 * the secret box; units are in the names. Defaults are in `queueDefaults` (queue/options.ts).
 */
export interface QueueOptions {
  /** From `openDatabase` + `migrate(hubMigrations)`. */
  database: Database<HubDatabase>;
  /** Opens the portals' signing secrets. */
  box: SecretBox;
  /** Default `systemClock`. Every wait of the queue is a timer of this clock. */
  clock?: Clock;
  /** Names this hub instance in leases. Default: random per process. */
  instanceId?: string;
  /**
   * Posts delivery requests instead of the built-in client (undici `request` on a keep-alive pool
   * of its own): for tests, or to route through a proxy.
   */
  fetch?: typeof fetch;
  /** The undici connection pool for delivery requests, when the built-in client is used. */
  dispatcher?: Dispatcher;
  schedule?: QueueSchedule;
  /** Most packets in one delivery request. Default 100. */
  batchMaxPackets?: number;
  /** Most packet bytes in one delivery request (at least one packet is always sent). Default 1 MiB. */
  batchMaxBytes?: number;
  /** A delivery request with no answer after this is a failed try. Default 15 s. */
  requestTimeoutMs?: number;
  /** After `{accepted:true}`, the portal must `ack` within this. Default 30 s. */
  ackDeadlineMs?: number;
  /** A line claimed by an instance that stopped renewing is taken over after this. Default 30 s. */
  leaseMs?: number;
  /**
   * Requests in flight from this instance. One request carries the batches of one or more of a
   * portal's lines. Default 32.
   */
  concurrency?: number;
  /**
   * Once the worker has caught up (its last claim found fewer portals ready than it had room
   * for), it waits until this long after that claim before claiming again, so packets arriving
   * together go out in fewer, larger requests. Real time, not the injected clock: it paces the
   * worker, it is not part of the schedule. 0 claims at once. Default 100 ms.
   */
  lingerMs?: number;
  /**
   * A request still unanswered after this stops counting against `concurrency` (its line stays
   * held), so a portal that hangs does not hold up the others. Default 2 s.
   */
  slowRequestMs?: number;
  /**
   * Where the database has no NOTIFY (MySQL/MariaDB; SQLite shared by several processes), how often
   * the one global change check runs (a single counter row, or SQLite's `data_version`). 0 turns it
   * off (one instance only). Default 1000 ms. Unused on PostgreSQL.
   */
  crossInstanceCheckMs?: number;
  /** How long `stop()` waits for requests in flight before abandoning them. Default 10 s. */
  stopTimeoutMs?: number;
}

export interface QueueSchedule {
  /** The block after the 1st, 2nd, … failed try. Default 1, 5, 15, 30 min, 1, 2, 4, 8 h. */
  blocksMs?: number[];
  /** The block after every later failed try. Default 12 h. */
  finalBlockMs?: number;
  /** This long after the first failed try, the line's packets move to dead letters. Default 24 h. */
  expireAfterMs?: number;
}

export interface QueuedPacket {
  lineConnectorId: string;
  packet: Packet;
}

export interface LineQueueState {
  waiting: number;
  attempts: number;
  blockedUntil: number | null;
  firstFailureAt: number | null;
  deadLetters: number;
}

/** Typed events that logs and metrics hang off; the queue never logs by itself. */
export interface QueueEvents {
  /** The portal answered `{taken}`: `taken` packets were deleted, `remaining` of the batch stay. */
  "batch:delivered": { lineConnectorId: string; portalId: string; taken: number; remaining: number };
  /** The portal answered `{accepted:true}`; the batch waits for `ack` until `deadline`. */
  "batch:accepted": { lineConnectorId: string; portalId: string; ids: string[]; deadline: number };
  /** A failed try: network error, timeout, non-2xx, bad answer or signature, missed ack deadline. */
  "batch:failed": { lineConnectorId: string; portalId: string; reason: string; error?: unknown };
  "line:blocked": { lineConnectorId: string; attempts: number; blockedUntil: number };
  /** The line's packets moved to dead letters (24 h after the first failed try, by default). */
  "packet:expired": { lineConnectorId: string; ids: string[] };
  /** Packets taken through the asynchronous `ack` call. */
  "packet:acked": { portalId: string; count: number };
  /** The worker has nothing in flight and sleeps until a wake-up or its one timer (`timerAt`). */
  "worker:idle": { timerAt: number | null };
  /** A database or wake-up failure of the worker; it retries by itself. */
  "worker:error": { where: string; error: unknown };
}
export type QueueEventName = keyof QueueEvents;

export interface QueueEventEmitter {
  on<E extends QueueEventName>(event: E, fn: (e: QueueEvents[E]) => void): void;
  off<E extends QueueEventName>(event: E, fn: (e: QueueEvents[E]) => void): void;
  once<E extends QueueEventName>(event: E, fn: (e: QueueEvents[E]) => void): void;
}

export interface Queue {
  /**
   * Resolves once every packet is durably committed (group commit across concurrent callers).
   * A packet whose id is already queued is ignored (idempotent). Rejects with LINE_UNKNOWN when a
   * line connector does not exist (nothing of that call is stored).
   */
  enqueue(items: QueuedPacket[]): Promise<void>;
  /** Starts the delivery worker (and LISTEN on PostgreSQL). */
  start(): Promise<void>;
  /** Stops taking new work, waits for batches in flight (bounded), releases this instance's leases. */
  stop(): Promise<void>;
  /** The portal's asynchronous acknowledgement; returns how many queued packets it removed. */
  ack(portalId: string, ids: string[]): Promise<number>;
  deadLetters(portalId: string, o?: { lineId?: string; limit?: number }): Promise<DeadLetter[]>;
  /** Moves dead letters back into the queue (all of the portal's, one line's, or given ids). */
  redrive(portalId: string, o?: { lineId?: string; ids?: string[] }): Promise<number>;
  lineState(lineConnectorId: string): Promise<LineQueueState>;
  readonly events: QueueEventEmitter;
  readonly instanceId: string;
}
