import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Calls, createRpcClient, generateSecret, systemClock } from "@openlines/protocol";
import { createTestDatabase, type TestDatabase, testDialects } from "@openlines/store/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type CorePortal, freePort, startCorePortal } from "../../../portal/test/support/portal.js";
import { PortalRepository } from "../../src/portals/index.js";
import { SecretBox } from "../../src/store/settings-crypto.js";
import { pollUntil } from "../queue/helpers.js";
import { type ReadyProcess, spawnReady } from "../support/ready-process.js";
import { FakeBotApi, TOKEN } from "../telegram/fake-bot-api.js";
import { openFullHubDatabase } from "./rig.js";

/**
 * A whole hub process (webhook entry, queue, RPC, outbox; `hub-process.ts`) is killed with SIGKILL
 * three times while all three kinds of work are in flight: Telegram webhooks being queued, batches
 * being delivered to a real portal that answers slowly, and operator replies being sent to a fake
 * Bot API that answers slowly. After the last restart:
 * - every webhook the hub answered 200 is one message at the portal (the portal drops duplicates);
 * - every `sendMessages` call the hub accepted reached the Bot API at least once, and a
 *   `deliveryStatus` for it reached the portal.
 * Duplicates of each kind are counted and printed. SQLite and PostgreSQL; MariaDB too.
 */
const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, "hub-process.ts");
const KILLS = Number(process.env.OPENLINES_HUB_KILLS ?? 3);
const HUB_KEY = "kill-test-hub-key-0123456789abcdef";
// The outbox's claim lasts 60 s; each restart moves the hub clock this much further ahead.
const CLOCK_STEP_MS = 61_000;

function spawnHub(url: string, telegramApi: string, offsetMs: number): ReadyProcess {
  return spawnReady(script, {
    OL_DB_URL: url,
    OL_HUB_KEY: HUB_KEY,
    OL_TELEGRAM_API: telegramApi,
    OL_CLOCK_OFFSET_MS: String(offsetMs),
  });
}

/**
 * A proxy that holds each request `delayMs` before forwarding it (the slow portal, the slow
 * platform), and lets the test look at what went through and what came back.
 */
async function slowProxy(
  target: () => string,
  delayMs: (path: string) => number,
  seen: (path: string, body: string, status: number, answer: string) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? "/";
    await new Promise((r) => setTimeout(r, delayMs(path)));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === "string" && !["host", "content-length", "connection"].includes(k)) headers[k] = v;
    // Forwarded even when the hub died meanwhile: the platform or portal received it all the same.
    const answer = await fetch(`${target()}${path}`, {
      method: req.method,
      headers,
      body: req.method === "GET" ? undefined : body,
    });
    const text = await answer.text();
    seen(path, body.toString("utf8"), answer.status, text);
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (!["content-length", "connection", "transfer-encoding", "keep-alive"].includes(k)) out[k] = v;
    });
    if (!res.destroyed) res.writeHead(answer.status, out).end(text);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("the hub killed with SIGKILL", () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const d of dbs) await d.drop();
  });

  for (const dialect of testDialects()) {
    it(`loses no accepted webhook and no accepted reply when killed ${KILLS} times mid-enqueue, mid-delivery and mid-send [${dialect}]`, async () => {
      const hubDb = await createTestDatabase(dialect);
      const portalDb = await createTestDatabase(dialect);
      dbs.push(hubDb, portalDb);
      const database = await openFullHubDatabase(hubDb.url);
      const secret = generateSecret();
      const portalPort = await freePort();
      const portal: CorePortal = await startCorePortal(portalDb.url, {
        listenPort: portalPort,
        clock: systemClock,
        config: { portalId: "kp", hubSecret: secret },
      });
      const fake = await FakeBotApi.start();

      // What reached the portal (taken) and the platform, through the slow proxies.
      const statusFor = new Map<string, number>(); // operator message id → deliveryStatus packets taken
      let deliveries = 0;
      const portalProxy = await slowProxy(
        () => `http://127.0.0.1:${portalPort}`,
        () => 40 + Math.random() * 120,
        (_path, body, status, answer) => {
          if (status !== 200) return;
          deliveries++;
          const taken = new Set((JSON.parse(answer) as { taken: string[] }).taken);
          for (const p of (JSON.parse(body) as { packets: any[] }).packets) {
            if (p.type === "deliveryStatus" && taken.has(p.id))
              statusFor.set(p.data.messageId, (statusFor.get(p.data.messageId) ?? 0) + 1);
          }
        },
      );
      const botProxy = await slowProxy(
        () => fake.url,
        (path) => (path.endsWith("/sendMessage") ? 100 + Math.random() * 300 : 0),
        () => {},
      );
      await new PortalRepository(database.db, new SecretBox(HUB_KEY)).create({
        id: "kp",
        name: "Kill portal",
        baseUrl: portalProxy.url,
        secret,
        state: "active",
      });

      let child: ReadyProcess | undefined;
      let port = 0;
      let hash = "";
      const rpc = () =>
        createRpcClient(Calls, {
          baseUrl: `http://127.0.0.1:${port}`,
          portalId: "kp",
          secret,
          now: Date.now,
        });
      const webhooksAccepted = new Set<string>(); // message texts the hub answered 200 for
      const repliesAccepted = new Set<string>(); // operator message ids the hub accepted
      let refused = 0;
      let sending = true;
      let n = 0;
      const webhookSender = async () => {
        while (sending) {
          if (port === 0 || !hash) {
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
          const k = ++n;
          const text = `customer ${k}`;
          const update = {
            update_id: 900_000 + k,
            message: {
              message_id: k,
              from: { id: 5000 + (k % 7), is_bot: false, first_name: "C" },
              chat: { id: 5000 + (k % 7), type: "private" },
              date: Math.floor(Date.now() / 1000),
              text,
            },
          };
          try {
            const res = await fetch(`http://127.0.0.1:${port}/webhook?line=${hash}`, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                "x-telegram-bot-api-secret-token": fake.webhook.secret_token as string,
              },
              body: JSON.stringify(update),
              signal: AbortSignal.timeout(5000),
            });
            await res.arrayBuffer();
            if (res.status === 200) webhooksAccepted.add(text);
            else refused++;
          } catch {
            refused++;
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      };
      const replySender = async () => {
        while (sending) {
          if (port === 0 || !hash) {
            await new Promise((r) => setTimeout(r, 10));
            continue;
          }
          const id = `op-${++n}`;
          try {
            await rpc().sendMessages({
              line: "support",
              connector: "telegram",
              messages: [{ id, chat: { id: String(5000 + (n % 7)) }, text: `reply ${id}` }],
            });
            repliesAccepted.add(id);
          } catch {
            refused++;
            await new Promise((r) => setTimeout(r, 5));
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };

      let senders: Promise<void>[] = [];
      try {
        for (let k = 0; k <= KILLS; k++) {
          child = spawnHub(hubDb.url, botProxy.url, k * CLOCK_STEP_MS);
          port = await child.port;
          if (!hash) {
            const saved = await rpc().saveSettings({
              line: "support",
              connector: "telegram",
              settings: { botToken: TOKEN },
            });
            await rpc().activate({ line: "support", connector: "telegram" });
            hash = new URL(saved.webhookUrl).searchParams.get("line") as string;
          }
          if (k === 0) senders = [webhookSender(), webhookSender(), replySender()];
          if (k === KILLS) break;
          await new Promise((r) => setTimeout(r, 500 + Math.random() * 600));
          port = 0;
          child.proc.kill("SIGKILL");
          await child.exited;
        }
        await new Promise((r) => setTimeout(r, 300));
        sending = false;
        await Promise.all(senders);
        const sentTexts = () => new Set(fake.callsOf("sendMessage").map((c) => String(c.params.text)));
        await pollUntil(async () => {
          const rows = await portal.ctx.database.db.selectFrom("message").select("text").execute();
          const atPortal = new Set(rows.map((r) => r.text));
          for (const t of webhooksAccepted) if (!atPortal.has(t)) return false;
          const sent = sentTexts();
          for (const id of repliesAccepted) if (!sent.has(`reply ${id}`) || !statusFor.has(id)) return false;
          return true;
        }, 60_000);

        const rows = await portal.ctx.database.db.selectFrom("message").select("text").execute();
        const perText = new Map<string, number>();
        for (const r of rows) perText.set(r.text, (perText.get(r.text) ?? 0) + 1);
        const twiceAtPortal = [...perText.values()].filter((c) => c > 1).length;
        const sends = fake.callsOf("sendMessage").map((c) => String(c.params.text));
        const sentTwice = sends.length - new Set(sends).size;
        const statusTwice = [...statusFor.values()].reduce((a, c) => a + c - 1, 0);
        console.log(
          `hub SIGKILL [${dialect}]: ${KILLS} kills; ${webhooksAccepted.size} webhooks accepted, all at the portal, ` +
            `${twiceAtPortal} stored twice; ${repliesAccepted.size} replies accepted, all sent, ${sentTwice} sent to ` +
            `the platform twice or more, ${statusTwice} duplicate deliveryStatus packets dropped by the portal; ` +
            `${deliveries} deliveries; ${refused} requests refused or cut`,
        );
        expect(webhooksAccepted.size).toBeGreaterThan(10);
        expect(repliesAccepted.size).toBeGreaterThan(3);
        // Exactly once for the operator, whatever the hub redelivered.
        expect(twiceAtPortal).toBe(0);
      } finally {
        sending = false;
        child?.proc.kill("SIGKILL");
        if (child) await child.exited;
        await portalProxy.close();
        await botProxy.close();
        await fake.close();
        await portal.close();
        await database.close();
      }
    }, 150_000);
  }
});
