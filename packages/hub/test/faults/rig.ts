import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { generateSecret, type Packet, signedHeaders, systemClock } from "@openlines/protocol";
import { type Database, migrate, openDatabase } from "@openlines/store";
import { type CorePortal, count, freePort, startCorePortal } from "../../../portal/test/support/portal.js";
import { PortalRepository } from "../../src/portals/index.js";
import { createQueue, type Queue, type QueueOptions } from "../../src/queue/index.js";
import { hubMigrations } from "../../src/store/migrations.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { SecretBox } from "../../src/store/settings-crypto.js";
import { insertLine } from "../support/lines.js";

/**
 * The fault rig: a real hub queue (system clock, short timeouts and blocks) delivering through a
 * fault-injecting proxy to a real portal (its core modules and its input de-dup), both on one
 * test database. The proxy forwards each delivery to the portal and then spoils the answer as
 * the test's `fault` says, so the portal has really committed what the hub thinks was lost: a
 * redelivery is a true duplicate, and the portal must drop it.
 */
export type Fault =
  | "none"
  /** Forward, then hold the answer past the hub's request timeout. */
  | "slow"
  /** Forward, then destroy the socket instead of answering. */
  | "drop"
  /** Do not forward; answer 500. */
  | "500"
  /** Forward, then answer 500 (the portal did commit). */
  | "500-after"
  /** Forward, then re-sign the portal's answer with a wrong secret. */
  | "bad-signature"
  /** Forward, then answer that only the first half of each line's packets was taken. */
  | "partial";

export const WRONG_SECRET = "whsec_d3JvbmctYnV0LXZhbGlkLXNlY3JldC0xMjM0NTY3OA==";
// Long enough for a real portal's commit on a busy 2-core machine (a spurious timeout would only
// add a duplicate, but would blur what the test shows); "slow" holds its answer well past it.
export const REQUEST_TIMEOUT_MS = 3000;

export interface FaultRig {
  database: Database<HubDatabase>;
  portal: CorePortal;
  portalId: string;
  /** What the proxy does with the next delivery; the test changes it as it goes. */
  fault: (n: number) => Fault;
  /** Deliveries seen by the proxy, and every packet id forwarded to the portal (duplicates included). */
  deliveries: number;
  forwarded: string[];
  queue(o?: Partial<QueueOptions>): Queue;
  line(lineId: string): Promise<string>;
  packet(lineConnectorId: string, lineId: string, text?: string): { lineConnectorId: string; packet: Packet };
  /** Portal messages and taken packets (each packet taken once however often it came). */
  portalCounts(): Promise<{ messages: number; taken: number }>;
  /** Packet ids the portal has committed. */
  takenIds(): Promise<Set<string>>;
  close(): Promise<void>;
}

export async function openFullHubDatabase(url: string): Promise<Database<HubDatabase>> {
  const database = openDatabase<HubDatabase>(url, { poolSize: 4 });
  await migrate(database.db, database.dialect, hubMigrations, "hub");
  return database;
}

/** `portalUrl`: the portal's own database (default: the hub's), so the hub's connections can be cut alone. */
export async function startFaultRig(url: string, o: { portalUrl?: string } = {}): Promise<FaultRig> {
  const database = await openFullHubDatabase(url);
  const portalId = `fault-${randomUUID().slice(0, 8)}`;
  const secret = generateSecret();
  const port = await freePort();
  const portal = await startCorePortal(o.portalUrl ?? url, {
    clock: systemClock,
    listenPort: port,
    config: { portalId, hubSecret: secret },
  });
  const target = `http://127.0.0.1:${port}`;
  const hanging = new Set<ServerResponse>();
  const box = new SecretBox("fault-test-hub-key-0123456789abcdef");
  const queues: Queue[] = [];

  const rig: FaultRig = {
    database,
    portal,
    portalId,
    fault: () => "none",
    deliveries: 0,
    forwarded: [],
    queue(o = {}) {
      const q = createQueue({
        database,
        box,
        clock: systemClock,
        crossInstanceCheckMs: 0,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        stopTimeoutMs: 500,
        schedule: { blocksMs: [100, 200, 300], finalBlockMs: 400, expireAfterMs: 600_000 },
        ...o,
      });
      queues.push(q);
      return q;
    },
    async line(lineId) {
      const id = `lc-${randomUUID()}`;
      const t = Date.now();
      await insertLine(
        database.db,
        {
          id,
          portal_id: portalId,
          line_id: lineId,
          connector: "telegram",
          hash: randomUUID().replace(/-/g, ""),
        },
        t,
      );
      return id;
    },
    packet(lineConnectorId, lineId, text = "hello") {
      const t = Date.now();
      return {
        lineConnectorId,
        packet: {
          id: `pk-${randomUUID()}`,
          version: 1,
          portal: portalId,
          line: lineId,
          connector: "telegram",
          created: t,
          type: "messages",
          data: {
            kind: "new",
            chat: { id: `chat-${lineId}`, type: "private" },
            user: { id: `user-${lineId}`, name: "Ann" },
            message: { id: `m-${randomUUID()}`, date: t, text, files: [] },
          },
        },
      };
    },
    async portalCounts() {
      return { messages: await count(portal.ctx, "message"), taken: await count(portal.ctx, "taken_packet") };
    },
    async takenIds() {
      const rows = await portal.ctx.database.db.selectFrom("taken_packet").select("id").execute();
      return new Set(rows.map((r) => r.id));
    },
    async close() {
      for (const q of queues) await q.stop().catch(() => {});
      for (const res of hanging) res.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
      proxy.closeAllConnections();
      await portal.close();
      await database.close();
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const fault = rig.fault(++rig.deliveries);
    if (fault === "500") {
      res.writeHead(500).end("down");
      return;
    }
    const packets = (JSON.parse(body.toString("utf8")) as { packets: { id: string; line: string }[] })
      .packets;
    const ids = packets.map((p) => p.id);
    const headers: Record<string, string> = {};
    for (const h of ["content-type", "webhook-id", "webhook-timestamp", "webhook-signature"])
      headers[h] = String(req.headers[h] ?? "");
    const answer = await fetch(`${target}/connector/input`, { method: "POST", headers, body });
    const text = await answer.text();
    if (answer.ok) rig.forwarded.push(...ids);
    switch (fault) {
      case "slow":
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        setTimeout(() => {
          hanging.delete(res);
          if (!res.destroyed) res.writeHead(answer.status, { "content-type": "application/json" }).end(text);
        }, REQUEST_TIMEOUT_MS * 2);
        return;
      case "drop":
        res.socket?.destroy();
        return;
      case "500-after":
        res.writeHead(500).end("oops");
        return;
      case "bad-signature":
        res
          .writeHead(answer.status, {
            "content-type": "application/json",
            ...signedHeaders(WRONG_SECRET, text, Date.now()),
          })
          .end(text);
        return;
      case "partial": {
        // The first half of each line's packets, as a portal that stopped each line part way.
        const taken = new Set((JSON.parse(text) as { taken: string[] }).taken);
        const byLine = new Map<string, string[]>();
        for (const p of packets)
          if (taken.has(p.id)) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p.id]);
        const half = [...byLine.values()].flatMap((ids) => ids.slice(0, Math.ceil(ids.length / 2)));
        const part = JSON.stringify({ taken: half });
        res.writeHead(200, { "content-type": "application/json" }).end(part);
        return;
      }
      default: {
        const out: Record<string, string> = { "content-type": "application/json" };
        for (const h of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
          const v = answer.headers.get(h);
          if (v) out[h] = v;
        }
        res.writeHead(answer.status, out).end(text);
      }
    }
  };
  const proxy: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
    });
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  await new PortalRepository(database.db, box, () => Date.now()).create({
    id: portalId,
    name: "Fault portal",
    baseUrl: proxyUrl,
    secret,
    state: "active",
  });
  return rig;
}

/** Duplicates among forwarded ids: deliveries of a packet beyond its first. */
export function duplicates(forwarded: string[]): number {
  return forwarded.length - new Set(forwarded).size;
}
