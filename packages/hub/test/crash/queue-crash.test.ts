import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSecret, type Packet } from "@openlines/protocol";
import { createTestDatabase, type TestDatabase, testDialects } from "@openlines/store/testing";
import { afterAll, describe, expect, it } from "vitest";
import { PortalRepository } from "../../src/portals/index.js";
import { SecretBox } from "../../src/store/settings-crypto.js";
import { openHubDatabase } from "../queue/helpers.js";
import { insertLine } from "../support/lines.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";
import { type ReadyProcess, spawnReady } from "../support/ready-process.js";

/**
 * Crash test: a real hub queue process delivers to a portal stub in this process while senders
 * keep enqueueing; the process is killed with SIGKILL at random moments and restarted. Afterwards
 * every packet whose enqueue was answered must have reached the portal at least once. Duplicates
 * (at-least-once delivery; the portal de-duplicates by packet id) are counted and printed.
 * SQLite and PostgreSQL always; MariaDB too (OPENLINES_TEST_DIALECTS chooses, as everywhere).
 */
const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, "queue-process.ts");
const KILLS = Number(process.env.OPENLINES_CRASH_KILLS ?? 8);
const HUB_KEY = "crash-test-hub-key-0123456789abcdef";

function spawnHub(url: string): ReadyProcess {
  return spawnReady(script, { OL_DB_URL: url, OL_HUB_KEY: HUB_KEY, OL_LEASE_MS: "1000" });
}

function packet(portal: string, line: string): Packet {
  const t = Date.now();
  return {
    id: `crash-${randomUUID()}`,
    version: 1,
    portal,
    line,
    connector: "telegram",
    created: t,
    type: "messages",
    data: {
      kind: "new",
      chat: { id: `chat-${line}`, type: "private" },
      user: { id: "u" },
      message: { id: randomUUID(), date: t, text: "crash test", files: [] },
    },
  };
}

const dialects = testDialects();

describe("queue crash test", () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  for (const dialect of dialects) {
    it(`loses no acknowledged packet when the hub is killed with SIGKILL ${KILLS} times [${dialect}]`, async () => {
      const test = await createTestDatabase(dialect);
      dbs.push(test);
      const database = await openHubDatabase(test.url);
      const secret = generateSecret();
      const stub: PortalStub = await startPortalStub({ secret });
      const portalId = "crash-portal";
      await new PortalRepository(database.db, new SecretBox(HUB_KEY)).create({
        id: portalId,
        name: "Crash portal",
        baseUrl: stub.url,
        secret,
        state: "active",
      });
      const lines: { id: string; line: string }[] = [];
      for (let i = 0; i < 6; i++) {
        const id = `lc-crash-${i}`;
        await insertLine(database.db, {
          id,
          portal_id: portalId,
          line_id: `line-${i}`,
          connector: "telegram",
          hash: randomUUID().replace(/-/g, ""),
        });
        lines.push({ id, line: `line-${i}` });
      }

      const acknowledged = new Set<string>();
      let port = 0;
      let sending = true;
      let refused = 0;
      const sender = async () => {
        while (sending) {
          if (port === 0) {
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
          const batch = Array.from({ length: 1 + Math.floor(Math.random() * 8) }, () => {
            const l = lines[Math.floor(Math.random() * lines.length)] as { id: string; line: string };
            return { lineConnectorId: l.id, packet: packet(portalId, l.line) };
          });
          try {
            const res = await fetch(`http://127.0.0.1:${port}/enqueue`, {
              method: "POST",
              body: JSON.stringify({ items: batch }),
              signal: AbortSignal.timeout(5000),
            });
            if (res.status === 200) for (const b of batch) acknowledged.add(b.packet.id);
            else refused++;
            await res.arrayBuffer();
          } catch {
            refused++;
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      };
      const senders = Array.from({ length: 4 }, () => sender());

      let child: ReadyProcess | undefined;
      try {
        for (let k = 0; k <= KILLS; k++) {
          child = spawnHub(test.url);
          port = await child.port;
          if (process.env.OPENLINES_CRASH_DEBUG)
            console.log(
              `spawn ${k} at ${Date.now() % 100000}: acked ${acknowledged.size}, delivered ${new Set(stub.ids()).size}`,
            );
          if (k === KILLS) break;
          // Let it take packets and deliver for a random while, then kill it mid-flight.
          await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
          port = 0;
          child.proc.kill("SIGKILL");
          await child.exited;
        }
        // The last process keeps running: stop sending, then everything acknowledged must arrive.
        await new Promise((r) => setTimeout(r, 300));
        sending = false;
        await Promise.all(senders);
        await stub.waitFor(() => {
          const got = new Set(stub.ids());
          for (const id of acknowledged) if (!got.has(id)) return false;
          return true;
        }, 45_000);
      } finally {
        sending = false;
        child?.proc.kill("SIGKILL");
        if (child) await child.exited;
        await stub.close();
        await database.close();
      }
      const received = stub.ids();
      const distinct = new Set(received);
      const missing = [...acknowledged].filter((id) => !distinct.has(id));
      console.log(
        `crash test [${dialect}]: ${KILLS} SIGKILLs, ${acknowledged.size} packets acknowledged at enqueue, ` +
          `${distinct.size} distinct delivered, ${missing.length} lost, ` +
          `${received.length - distinct.size} delivered twice or more (duplicates), ${refused} enqueues refused or cut`,
      );
      expect(missing).toEqual([]);
      expect(acknowledged.size).toBeGreaterThan(50);
    }, 150_000);
  }
});
