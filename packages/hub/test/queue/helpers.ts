import { randomUUID } from "node:crypto";
import { generateSecret, ManualClock, type Packet } from "@openlines/protocol";
import { type Database, migrate, openDatabase } from "@openlines/store";
import { PortalRepository } from "../../src/portals/index.js";
import {
  createQueue,
  type Queue,
  type QueueEventName,
  type QueueEvents,
  type QueueOptions,
} from "../../src/queue/index.js";
import { hubMigrations } from "../../src/store/migrations.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { SecretBox } from "../../src/store/settings-crypto.js";
import { insertLine } from "../support/lines.js";
import { type PortalStub, type PortalStubOptions, startPortalStub } from "../support/portal-stub.js";

/** A ManualClock that counts the timers armed and not yet fired or cancelled. */
export class CountingClock extends ManualClock {
  armed = 0;
  override setTimer(ms: number, fn: () => void) {
    let live = true;
    this.armed++;
    const end = () => {
      if (live) {
        live = false;
        this.armed--;
      }
    };
    const t = super.setTimer(ms, () => {
      end();
      fn();
    });
    return {
      cancel: () => {
        end();
        t.cancel();
      },
    };
  }
}

export const box = new SecretBox("test-key-for-the-queue-tests-0123456789");

export async function openHubDatabase(url: string): Promise<Database<HubDatabase>> {
  const database = openDatabase<HubDatabase>(url);
  await migrate(database.db, database.dialect, hubMigrations, "hub");
  return database;
}

export interface Fixture {
  database: Database<HubDatabase>;
  clock: CountingClock;
  stub: PortalStub;
  portalId: string;
  secret: string;
  queues: Queue[];
  /** Creates a line connector of the fixture's portal (or of `portalId`); returns its id. */
  line(lineId?: string, portalId?: string): Promise<string>;
  /** Creates another portal served by the same stub, with the same secret; returns its id. */
  portal(): Promise<string>;
  packet(
    lineConnectorId: string,
    o?: { chat?: string; text?: string; id?: string },
  ): Packet & { lcid: string };
  queue(o?: Partial<QueueOptions>): Queue;
  close(): Promise<void>;
}

const lineIds = new Map<string, { line: string; portal: string }>();

/** A portal with a stub, a database handle and a clock; every test makes its own. */
export async function fixture(url: string, stubOptions: Partial<PortalStubOptions> = {}): Promise<Fixture> {
  const database = await openHubDatabase(url);
  const clock = new CountingClock();
  const secret = generateSecret();
  const stub = await startPortalStub({ secret, now: () => clock.now(), ...stubOptions });
  const portalId = `p-${randomUUID().slice(0, 8)}`;
  const portals = new PortalRepository(database.db, box, () => clock.now());
  await portals.create({ id: portalId, name: "Test portal", baseUrl: stub.url, secret, state: "active" });
  const extra: Database<HubDatabase>[] = [];
  let n = 0;
  let portalCount = 1;
  const f: Fixture = {
    database,
    clock,
    stub,
    portalId,
    secret,
    queues: [],
    async portal() {
      const id = `${portalId}-p${++portalCount}`;
      await portals.create({
        id,
        name: `Test portal ${portalCount}`,
        baseUrl: stub.url,
        secret,
        state: "active",
      });
      return id;
    },
    async line(lineId = `line-${++n}`, portal = portalId) {
      const id = `lc-${randomUUID()}`;
      const t = clock.now();
      await insertLine(
        database.db,
        {
          id,
          portal_id: portal,
          line_id: lineId,
          connector: "telegram",
          hash: randomUUID().replace(/-/g, ""),
        },
        t,
      );
      lineIds.set(id, { line: lineId, portal });
      return id;
    },
    packet(lcid, o = {}) {
      const t = clock.now();
      return {
        lcid,
        id: o.id ?? `pk-${randomUUID()}`,
        version: 1,
        portal: lineIds.get(lcid)?.portal ?? portalId,
        line: lineIds.get(lcid)?.line ?? "?",
        connector: "telegram",
        created: t,
        type: "messages",
        data: {
          kind: "new",
          chat: { id: o.chat ?? "chat-1", type: "private" },
          user: { id: "user-1", name: "Ann" },
          message: { id: `m-${randomUUID()}`, date: t, text: o.text ?? "hello", files: [] },
        },
      };
    },
    queue(o = {}) {
      let db = database;
      if (o.database) {
        db = o.database;
        extra.push(db);
      }
      const q = createQueue({ database: db, box, clock, crossInstanceCheckMs: 0, ...o });
      f.queues.push(q);
      return q;
    },
    async close() {
      for (const q of f.queues) await q.stop().catch(() => {});
      await stub.close();
      for (const d of extra) await d.close();
      await database.close();
    },
  };
  return f;
}

/** Enqueues fixture packets (their `lcid` names the line). */
export function items(packets: (Packet & { lcid: string })[]) {
  return packets.map(({ lcid, ...packet }) => ({ lineConnectorId: lcid, packet: packet as Packet }));
}

/** Resolves with the first event of this name that passes `match`; register before acting. */
export function nextEvent<E extends QueueEventName>(
  q: Queue,
  event: E,
  match: (e: QueueEvents[E]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<QueueEvents[E]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      q.events.off(event, fn);
      reject(new Error(`no ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const fn = (e: QueueEvents[E]) => {
      if (!match(e)) return;
      clearTimeout(t);
      q.events.off(event, fn);
      resolve(e);
    };
    q.events.on(event, fn);
  });
}

/** Resolves once `check` holds, re-checked after each of the queue's events of these names. */
export function untilEvents(
  q: Queue,
  events: QueueEventName[],
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
) {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const off = () => {
      for (const e of events) q.events.off(e, fn);
      clearTimeout(t);
    };
    // A check still running when an earlier one resolved may fail once the test has closed its
    // database: only a check that fails before the condition held fails the wait.
    const fn = () => {
      if (done) return;
      void Promise.resolve()
        .then(check)
        .then(
          (ok) => {
            if (ok && !done) {
              done = true;
              off();
              resolve();
            }
          },
          (e) => {
            if (done) return;
            done = true;
            off();
            reject(e);
          },
        );
    };
    const t = setTimeout(() => {
      off();
      reject(new Error(`condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const e of events) q.events.on(e, fn);
    fn();
  });
}

/** Re-checks `check` every few milliseconds until it holds; for state no event announces. */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
