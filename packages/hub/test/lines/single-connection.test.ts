import type { ManualClock, Packet } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashOf, startTestHub, type TestHub, until } from "../support/hub-harness.js";

type Deactivate = Extract<Packet, { type: "deactivate" }>;

describeEachDialect("single connection and health checks", (ctx) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(ctx.url());
  });
  afterAll(async () => t?.close());

  it("moves an account bound on one portal to another, and tells the first portal", async () => {
    t.platform.addBot("token-shared-1", "bot-shared");
    const a = await t.addPortal("portal-a");
    const b = await t.addPortal("portal-b");
    const settings = { token: "token-shared-1", secret: "echo-secret-1" };
    const first = await a.rpc.saveSettings({ line: "A1", connector: "echo", settings });
    await a.rpc.activate({ line: "A1", connector: "echo" });
    expect(
      (await t.webhook(hashOf(first.webhookUrl), { update_id: 1, chat: 9, text: "hi", context: { x: 1 } }))
        .status,
    ).toBe(200);
    const aRow = await t.hub.services.db
      .selectFrom("line_connector")
      .selectAll()
      .where("portal_id", "=", "portal-a")
      .executeTakeFirstOrThrow();
    expect(await t.count("chat_context")).toBe(1);

    await b.rpc.saveSettings({ line: "B1", connector: "echo", settings });
    expect(await b.rpc.activate({ line: "B1", connector: "echo" })).toMatchObject({ status: "active" });

    const [statusA] = (await a.rpc.status({})).lines;
    expect(statusA).toMatchObject({ status: "needsAttention", reason: "connectedElsewhere" });
    expect((await b.rpc.status({})).lines[0]).toMatchObject({
      status: "active",
      account: { id: "bot-shared" },
    });
    const deactivate = t.queue.list("deactivate") as Deactivate[];
    expect(deactivate).toHaveLength(1);
    expect(deactivate[0]).toMatchObject({
      portal: "portal-a",
      line: "A1",
      data: { reason: "connectedElsewhere" },
    });
    expect(t.queue.packets.get(deactivate[0].id)?.lineConnectorId).toBe(aRow.id);
    // the old line connector's settings and chat context are gone; its webhook is refused
    const left = await t.hub.services.db
      .selectFrom("connector_settings")
      .select("line_connector_id")
      .execute();
    expect(left.map((r) => r.line_connector_id)).not.toContain(aRow.id);
    const ctxRows = await t.hub.services.db.selectFrom("chat_context").select("line_connector_id").execute();
    expect(ctxRows.map((r) => r.line_connector_id)).not.toContain(aRow.id);
    expect((await t.webhook(hashOf(first.webhookUrl), { update_id: 2, chat: 9, text: "again" })).status).toBe(
      409,
    );
  });

  it("leaves a line alone when its health check cannot reach the platform, and checks on its timer", async () => {
    t.platform.addBot("token-timer-1", "bot-timer");
    const d = await t.addPortal("portal-d");
    await d.rpc.saveSettings({
      line: "D1",
      connector: "echo",
      settings: { token: "token-timer-1", secret: "echo-secret-1" },
    });
    await d.rpc.activate({ line: "D1", connector: "echo" });
    t.platform.script("/me", { status: 503 });
    const r = await t.hub.health.once();
    expect(r.failed).toBe(0);
    expect((await d.rpc.status({})).lines[0].status).toBe("active");
    t.platform.clearScripts();
    t.platform.bots.delete("token-timer-1");
    (t.clock as ManualClock).advance(15 * 60_000);
    await until(async () => (await d.rpc.status({})).lines[0].status === "needsAttention");
  });

  it("marks a line whose credentials were revoked and queues a deactivate to its portal", async () => {
    t.platform.addBot("token-health-1", "bot-health");
    const c = await t.addPortal("portal-c");
    await c.rpc.saveSettings({
      line: "C1",
      connector: "echo",
      settings: { token: "token-health-1", secret: "echo-secret-1" },
    });
    await c.rpc.activate({ line: "C1", connector: "echo" });
    const ok = await t.hub.health.once();
    expect(ok.failed).toBe(0);
    expect(ok.checked).toBeGreaterThanOrEqual(1);
    t.platform.bots.delete("token-health-1");
    const r = await t.hub.health.once();
    expect(r.failed).toBe(1);
    expect((await c.rpc.status({})).lines[0]).toMatchObject({
      status: "needsAttention",
      reason: "credentialsRevoked",
    });
    const p = (t.queue.list("deactivate") as Deactivate[]).find((x) => x.portal === "portal-c");
    expect(p?.data.reason).toBe("credentialsRevoked");
    expect(p?.data.message).toContain("The bot token was revoked.");
    // needsAttention lines are not checked again
    expect((await t.hub.health.once()).failed).toBe(0);
  });
});
