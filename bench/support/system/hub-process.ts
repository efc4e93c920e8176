import type { AddressInfo } from "node:net";
import { createHub, loadHubConfig } from "@openlines/hub";
import type { HubDatabase } from "@openlines/hub/store/schema";
import { openDatabase } from "@openlines/store";
import Fastify from "fastify";
import pino from "pino";
import { QueryLog } from "../query-log.js";
import { reportFailure, serveParent } from "./child.js";

/**
 * Child process entry: the server under test, alone in its process.
 *  - BENCH_MODE=hub: the real hub (`createHub` listening on its own port, settings from the
 *    OPENLINES_HUB_* environment as `openlines hub` reads them), logging warnings only.
 *  - BENCH_MODE=noop: the ceiling, a Fastify route `POST /webhook` that takes the body and
 *    answers 200 "ok" doing nothing else.
 * Sends `{type: "ready", url}`; answers `{type: "usage"}` with its CPU time and resident memory.
 */
async function main() {
  let close: () => Promise<void>;
  let url: string;
  if (process.env.BENCH_MODE === "noop") {
    const app = Fastify({ logger: false });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
    app.post("/webhook", async (_req, reply) => reply.type("text/plain").send("ok"));
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    close = () => app.close();
  } else {
    const config = loadHubConfig({
      ...process.env,
      OPENLINES_HUB_HOST: "127.0.0.1",
      OPENLINES_HUB_PORT: "0",
    });
    // BENCH_QUERY_LOG=1 (diagnostic, never for figures): statements by total time, printed at exit.
    const queries = process.env.BENCH_QUERY_LOG === "1" ? new QueryLog() : undefined;
    const opened = openDatabase<HubDatabase>(config.databaseUrl);
    const database = queries ? queries.wrap(opened) : opened;
    const log = pino({ name: "hub", level: process.env.LOG_LEVEL ?? "warn" });
    const hub = createHub(config, { log, database });
    await hub.start();
    url = `http://127.0.0.1:${(hub.app.server.address() as AddressInfo).port}`;
    close = async () => {
      await hub.close();
      queries?.print();
      await opened.close();
    };
  }
  serveParent({
    usage: () => ({ type: "usage", cpu: process.cpuUsage(), rss: process.memoryUsage().rss }),
  });
  process.once("SIGTERM", () => {
    close().finally(() => process.exit(0));
  });
  process.send!({ type: "ready", url, pid: process.pid });
}

main().catch(reportFailure);
