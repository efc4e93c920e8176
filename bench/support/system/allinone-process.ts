import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startAllInOne } from "../../../packages/cli/src/all-in-one.js";
import { FakeBotApi, TOKEN } from "../../../packages/hub/test/telegram/fake-bot-api.js";
import { benchNow } from "../stats.js";
import { reportFailure, serveParent } from "./child.js";
import { seqOf } from "./telegram.js";

/**
 * Child process entry: the all-in-one server (hub + portal on one port, `startAllInOne`) with a
 * Telegram line connected the way an admin does it — the portal's hub client calls `saveSettings`
 * and `activate` (signed RPC), the hub calls getMe and setWebhook on a fake Bot API. Databases
 * from OPENLINES_HUB_DATABASE_URL / OPENLINES_PORTAL_DATABASE_URL, else SQLite files in a fresh
 * temporary data folder. Records when the portal committed each `#seq` message (its
 * `message.received` event fires after the commit), on the machine's monotonic clock.
 */
async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "openlines-bench-"));
  const fake = await FakeBotApi.start();
  const log = pino({ level: process.env.LOG_LEVEL ?? "warn" });
  const server = await startAllInOne({
    port: 0,
    host: "127.0.0.1",
    dataDir,
    demo: false,
    log,
    env: { ...process.env, OPENLINES_BASEURL_TELEGRAM: fake.url },
  });
  const { lines, hub, auth } = server.portal.ctx.services;
  const [admin] = await auth.accounts.list();
  const line = await lines.store.create({ name: "Bench" }, [admin.id]);
  const saved = await hub.saveSettings({
    line: line.id,
    connector: "telegram",
    settings: { botToken: TOKEN },
  });
  const active = await hub.activate({ line: line.id, connector: "telegram" });
  await lines.store.saveConnector(line.id, "telegram", {
    status: active.status,
    webhookUrl: saved.webhookUrl,
  });
  const { token } = await auth.credentials.createToken(admin.id, "bench");
  const commits = new Map<number, number>();
  server.portal.ctx.bus.on("message.received", ({ message }) => {
    const seq = seqOf(message.text);
    if (seq >= 0 && !commits.has(seq)) commits.set(seq, benchNow());
  });
  serveParent({
    commits: () => ({ type: "commits", pairs: [...commits] }),
    usage: () => ({ type: "usage", cpu: process.cpuUsage(), rss: process.memoryUsage().rss }),
  });
  process.once("SIGTERM", () => {
    server
      .close()
      .then(() => fake.close())
      .finally(() => {
        rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
  });
  process.send!({
    type: "ready",
    url: server.url.replace("localhost", "127.0.0.1"),
    hash: new URL(saved.webhookUrl).searchParams.get("line"),
    secret: fake.webhook.secret_token,
    token,
  });
}

main().catch(reportFailure);
