import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MemorySeenIds, verifySignature } from "@openlines/protocol/signing";
import { benchNow } from "./stats.js";

/**
 * The portal stub's server, shared by the in-thread and worker-thread variants (portal-stub.ts).
 *
 * It plays every portal of the benchmark at once. It takes two kinds of POST, both signed with
 * the Standard Webhooks scheme and verified like the real portal does:
 *  - an openlines `DeliveryRequest` (`{packets: [...]}`): answers `{taken: [ids]}`;
 *  - one message from a peer queue's job handler (the packet itself, `{id, ...}`): answers
 *    `{taken: [id]}` too.
 * A path starting with `/down` plays a portal in outage: it answers 503 and records nothing.
 *
 * Message ids are `<run tag>-<index>`; the arrival time of index i is written to `arrivals[i]`
 * (0 = not arrived), which lives in a SharedArrayBuffer the main thread reads.
 */
export const Counter = {
  /** Distinct messages of the current run that arrived. */
  arrived: 0,
  /** Messages of the current run that arrived again. */
  duplicates: 1,
  /** HTTP requests taken (batches for openlines, messages for the peers). */
  requests: 2,
  /** Requests refused: bad signature or unparsable body. */
  rejected: 3,
  /** Requests to a `/down` path. */
  down: 4,
  /** Messages whose id is not of the current run. */
  strays: 5,
} as const;
export const COUNTERS = 8;

export interface Recording {
  tag: string;
  /** Float64Array view on a SharedArrayBuffer, one slot per message index. */
  arrivals: Float64Array;
  /** Int32Array view on a SharedArrayBuffer, indexed by Counter. */
  counters: Int32Array;
  /** How many distinct arrivals complete the run (the healthy messages). */
  expected: number;
}

export interface StubCore {
  server: Server;
  url: string;
  record(recording: Recording | null): void;
}

/** A JSON answer with its length (the stubs keep connections alive). */
export function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A keep-alive HTTP server on a loopback port that hands each request to `handle` with its whole
 * raw body (signatures are over the bytes); a handler that throws answers 500.
 */
export async function listenWithBodies(
  handle: (req: IncomingMessage, res: ServerResponse, raw: Buffer) => Promise<void>,
): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch(() => answer(res, 500, '{"error":"stub"}'));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

export async function startStubCore(options: { secret: string; onComplete: () => void }): Promise<StubCore> {
  let current: Recording | null = null;
  const seen = new MemorySeenIds();

  const take = (id: string, at: number): void => {
    const rec = current;
    if (!rec) return;
    const dash = id.lastIndexOf("-");
    const index = Number(id.slice(dash + 1));
    if (id.slice(0, dash) !== rec.tag || !Number.isInteger(index) || index >= rec.arrivals.length) {
      Atomics.add(rec.counters, Counter.strays, 1);
      return;
    }
    if (rec.arrivals[index] !== 0) {
      Atomics.add(rec.counters, Counter.duplicates, 1);
      return;
    }
    rec.arrivals[index] = at;
    if (Atomics.add(rec.counters, Counter.arrived, 1) + 1 === rec.expected) options.onComplete();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const rec = current;
    if (req.url?.startsWith("/down")) {
      if (rec) Atomics.add(rec.counters, Counter.down, 1);
      return answer(res, 503, '{"error":"portal down"}');
    }
    if (rec) Atomics.add(rec.counters, Counter.requests, 1);
    let ids: string[];
    try {
      await verifySignature({ secrets: options.secret, headers: req.headers, rawBody: raw, seen });
      const body = JSON.parse(raw.toString("utf8"));
      ids = Array.isArray(body.packets) ? body.packets.map((p: { id: string }) => p.id) : [body.id];
      if (ids.some((id) => typeof id !== "string")) throw new Error("packet without id");
    } catch {
      if (rec) Atomics.add(rec.counters, Counter.rejected, 1);
      return answer(res, 401, '{"error":"refused"}');
    }
    const at = benchNow();
    for (const id of ids) take(id, at);
    answer(res, 200, JSON.stringify({ taken: ids }));
  };

  const server = await listenWithBodies(handle);
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    record: (recording) => {
      current = recording;
    },
  };
}
