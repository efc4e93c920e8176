import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "@openlines/protocol";
import type { QueueOptions } from "./interfaces.js";
import { fetchTransport, type PortalTransport, undiciTransport } from "./transport.js";

const MIN = 60_000;
const HOUR = 60 * MIN;

/** The defaults of DESIGN 3.5: blocks growing to 8 h, then 12 h; expiry 24 h after the first failure. */
export const queueDefaults = Object.freeze({
  blocksMs: Object.freeze([1 * MIN, 5 * MIN, 15 * MIN, 30 * MIN, 1 * HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR]),
  finalBlockMs: 12 * HOUR,
  expireAfterMs: 24 * HOUR,
  batchMaxPackets: 100,
  batchMaxBytes: 1024 * 1024,
  requestTimeoutMs: 15_000,
  // The portal's own request handling plus a commit; long enough for a slow portal, short enough
  // that a lost ack is noticed within a minute.
  ackDeadlineMs: 30_000,
  leaseMs: 30_000,
  concurrency: 32,
  lingerMs: 100,
  slowRequestMs: 2000,
  crossInstanceCheckMs: 1000,
  stopTimeoutMs: 10_000,
});

export interface ResolvedOptions {
  clock: Clock;
  instanceId: string;
  transport: PortalTransport;
  blocksMs: readonly number[];
  finalBlockMs: number;
  expireAfterMs: number;
  batchMaxPackets: number;
  batchMaxBytes: number;
  requestTimeoutMs: number;
  ackDeadlineMs: number;
  leaseMs: number;
  concurrency: number;
  lingerMs: number;
  slowRequestMs: number;
  crossInstanceCheckMs: number;
  stopTimeoutMs: number;
}

export function resolveOptions(o: QueueOptions): ResolvedOptions {
  const d = queueDefaults;
  const r: ResolvedOptions = {
    clock: o.clock ?? systemClock,
    instanceId: o.instanceId ?? `hub-${randomUUID()}`,
    transport: o.fetch ? fetchTransport(o.fetch) : undiciTransport(o.dispatcher),
    blocksMs: [...(o.schedule?.blocksMs ?? d.blocksMs)],
    finalBlockMs: o.schedule?.finalBlockMs ?? d.finalBlockMs,
    expireAfterMs: o.schedule?.expireAfterMs ?? d.expireAfterMs,
    batchMaxPackets: o.batchMaxPackets ?? d.batchMaxPackets,
    batchMaxBytes: o.batchMaxBytes ?? d.batchMaxBytes,
    requestTimeoutMs: o.requestTimeoutMs ?? d.requestTimeoutMs,
    ackDeadlineMs: o.ackDeadlineMs ?? d.ackDeadlineMs,
    leaseMs: o.leaseMs ?? d.leaseMs,
    concurrency: Math.max(1, o.concurrency ?? d.concurrency),
    lingerMs: Math.max(0, o.lingerMs ?? d.lingerMs),
    slowRequestMs: o.slowRequestMs ?? d.slowRequestMs,
    crossInstanceCheckMs: o.crossInstanceCheckMs ?? d.crossInstanceCheckMs,
    stopTimeoutMs: o.stopTimeoutMs ?? d.stopTimeoutMs,
  };
  if (r.instanceId.length > 64) throw new Error("instanceId must be at most 64 characters.");
  return Object.freeze(r);
}

/**
 * The block after the `attempts`-th failed try (1-based), never past the expiry moment: the line
 * is woken exactly when its packets are due to move to dead letters.
 */
export function blockUntil(
  o: ResolvedOptions,
  attempts: number,
  now: number,
  firstFailureMs: number,
): number {
  const block = attempts <= o.blocksMs.length ? (o.blocksMs[attempts - 1] as number) : o.finalBlockMs;
  return Math.min(now + block, firstFailureMs + o.expireAfterMs);
}
