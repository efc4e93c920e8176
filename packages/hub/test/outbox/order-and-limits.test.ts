import type { ManualClock, Packet } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { echoConnector } from "../support/echo-connector.js";
import { startTestHub, type TestHub, until } from "../support/hub-harness.js";

type Status = Extract<Packet, { type: "deliveryStatus" }>;

describeEachDialect("outbox order, rate limits, typing and read marks", (ctx) => {
  let t: TestHub;
  let p: Awaited<ReturnType<TestHub["addPortal"]>>;
  let clock: ManualClock;
  const line = { line: "L1", connector: "echo" };
  const sent = (text: string) => t.platform.callsTo("/send").filter((c) => c.body.text === text).length;
  const statusOf = (id: string) =>
    t.queue.list("deliveryStatus").find((x) => (x as Status).data.messageId === id) as Status | undefined;

  beforeAll(async () => {
    const slow = { ...echoConnector, rateLimits: { perLine: { perSecond: 1, burst: 2 } } };
    t = await startTestHub(ctx.url(), { connectors: [slow] });
    clock = t.clock as ManualClock;
    t.platform.addBot("token-order-1", "bot-order");
    p = await t.addPortal("p1");
    await p.rpc.saveSettings({ ...line, settings: { token: "token-order-1", secret: "echo-secret-1" } });
    await p.rpc.activate(line);
  });
  afterAll(async () => t?.close());

  it("keeps to the connector's per-line rate: a burst, then one a second", async () => {
    await p.rpc.sendMessages({
      ...line,
      messages: ["r1", "r2", "r3", "r4"].map((id, i) => ({ id, chat: { id: `rate-${i}` }, text: id })),
    });
    await until(() => sent("r1") + sent("r2") === 2);
    await t.hub.outbox.idle();
    expect(sent("r3") + sent("r4")).toBe(0);
    clock.advance(1000);
    await until(() => sent("r3") === 1);
    await t.hub.outbox.idle();
    expect(sent("r4")).toBe(0);
    clock.advance(1000);
    await until(() => sent("r4") === 1);
  });

  it("sends a chat's messages in order, a later one waiting while an earlier one is retried", async () => {
    clock.advance(10_000); // a full bucket
    t.platform.script("/send", { status: 502 });
    await p.rpc.sendMessages({
      ...line,
      messages: [
        { id: "o1", chat: { id: "ordered" }, text: "first" },
        { id: "o2", chat: { id: "ordered" }, text: "second" },
      ],
    });
    await until(() => sent("first") === 1);
    await t.hub.outbox.idle();
    expect(sent("second")).toBe(0);
    clock.advance(1000);
    await until(() => statusOf("o2"));
    const order = t.platform
      .callsTo("/send")
      .filter((c) => c.body.chat === "ordered")
      .map((c) => c.body.text);
    expect(order).toEqual(["first", "first", "second"]);
    expect(statusOf("o1")?.data.status).toBe("sent");
  });

  it("passes typing and read marks on, and does not retry them", async () => {
    clock.advance(10_000);
    expect(await p.rpc.typing({ ...line, chat: { id: "c9" } })).toEqual({ ok: true });
    expect(await p.rpc.markRead({ ...line, chat: { id: "c9" }, platformMessageIds: ["11", "12"] })).toEqual({
      ok: true,
    });
    await until(() => t.platform.callsTo("/read").length === 1);
    expect(t.platform.callsTo("/typing")).toEqual([
      { path: "/typing", token: "token-order-1", body: { chat: "c9" } },
    ]);
    expect(t.platform.callsTo("/read")[0].body).toEqual({ chat: "c9", ids: ["11", "12"] });
    clock.advance(10_000);
    t.platform.script("/typing", { status: 500 });
    await p.rpc.typing({ ...line, chat: { id: "c9" } });
    await until(async () => (await t.count("outbox")) === 0);
    clock.advance(60_000);
    await t.hub.outbox.idle();
    expect(t.platform.callsTo("/typing")).toHaveLength(2);
  });
});
