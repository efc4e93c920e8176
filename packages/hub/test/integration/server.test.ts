import type { AddressInfo } from "node:net";
import { generateSecret, ManualClock } from "@openlines/protocol";
import { openDatabase } from "@openlines/store";
import { describeEachDialect } from "@openlines/store/testing";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hubConfig } from "../../src/config.js";
import type { ConnectorDefinition } from "../../src/connectors/contract.js";
import { createHub, type Hub } from "../../src/server.js";
import type { HubDatabase } from "../../src/store/schema.js";
import { echoConnector } from "../support/echo-connector.js";
import { FakeQueue } from "../support/fake-queue.js";
import { TEST_KEY } from "../support/hub-harness.js";
import { insertLine } from "../support/lines.js";

/** A connector driven by its own route, like a site form: `POST /sample/<hash>`. */
const routed: ConnectorDefinition = {
  ...echoConnector,
  type: "routed",
  title: "Routed sample",
  virtual: undefined,
  routes(app, hub) {
    app.post<{ Params: { hash: string }; Body: { id: string; text: string } }>(
      "/sample/:hash",
      async (req) => {
        const line = await hub.lineByHash(req.params.hash);
        if (!line) return { found: false };
        await hub.ingest(req.params.hash, [
          {
            type: "messages",
            dedupKey: req.body.id,
            data: {
              kind: "new",
              chat: { id: "visitor", type: "private" },
              user: { id: "visitor" },
              message: { id: req.body.id, date: hub.clock.now(), text: req.body.text, files: [] },
            },
          },
        ]);
        return { found: true, line: line.ctx.line.lineId };
      },
    );
  },
};

describeEachDialect("the hub mounted on an existing app", (ctx) => {
  let hub: Hub;
  let url: string;
  const queue = new FakeQueue();
  const app = Fastify();
  let database: ReturnType<typeof openDatabase<HubDatabase>>;
  beforeAll(async () => {
    app.post("/host/echo", async (req) => ({ got: req.body }));
    database = openDatabase<HubDatabase>(ctx.url());
    hub = createHub(hubConfig({ key: TEST_KEY }), {
      app,
      database,
      queue,
      clock: new ManualClock(Date.now()),
      connectors: [echoConnector, routed],
      log: { info() {}, warn() {}, error() {} },
    });
    await hub.start();
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    hub.services.config.publicUrl = url;
  });
  afterAll(async () => {
    await hub?.close();
    await app.close();
    await database.close();
  });

  it("leaves the host app's own JSON parsing alone and answers its health route", async () => {
    const res = await fetch(`${url}/host/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await res.json()).toEqual({ got: { a: 1 } });
    expect(await (await fetch(`${url}/hub/healthz`)).json()).toEqual({ ok: true });
    const unknown = await fetch(`${url}/webhook?line=nope`, { method: "POST", body: "x" });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe("LINE_UNKNOWN");
  });

  it("mounts each connector's own routes with a context that finds lines and ingests once", async () => {
    const secret = generateSecret();
    await hub.portals.create({
      id: "p1",
      name: "p1",
      baseUrl: "http://127.0.0.1:9",
      secret,
      state: "active",
    });
    const rows = await hub.services.db.selectFrom("line_connector").selectAll().execute();
    expect(rows).toHaveLength(0);
    // a line of the routed connector, written directly: the sample has no platform to activate against
    const id = "lc_routed";
    const now = Date.now();
    await insertLine(
      hub.services.db,
      { id, portal_id: "p1", line_id: "form-line", connector: "routed", hash: "routed-hash-0123456789" },
      now,
    );
    await hub.services.db
      .insertInto("connector_settings")
      .values({
        line_connector_id: id,
        settings_enc: hub.services.box.seal(JSON.stringify({ token: "t-routed-1", secret: "s-routed-1" })),
        updated_ms: now,
      })
      .execute();
    const post = (hash: string, body: unknown) =>
      fetch(`${url}/sample/${hash}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    expect(await post("routed-hash-0123456789", { id: "f1", text: "from the form" })).toEqual({
      found: true,
      line: "form-line",
    });
    expect(await post("routed-hash-0123456789", { id: "f1", text: "from the form" })).toEqual({
      found: true,
      line: "form-line",
    });
    expect(await post("other", { id: "f2", text: "x" })).toEqual({ found: false });
    const msgs = queue.list("messages");
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatchObject({ portal: "p1", line: "form-line", connector: "routed" });
  });
});
