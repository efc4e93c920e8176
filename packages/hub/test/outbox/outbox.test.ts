import type { ManualClock, Packet } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashOf, startTestHub, type TestHub, until } from "../support/hub-harness.js";

type Status = Extract<Packet, { type: "deliveryStatus" }>;

describeEachDialect("the outbox", (ctx) => {
  let t: TestHub;
  let p: Awaited<ReturnType<TestHub["addPortal"]>>;
  let clock: ManualClock;
  let hash: string;
  const line = { line: "L1", connector: "echo" };
  const statusOf = (messageId: string) =>
    t.queue.list("deliveryStatus").find((x) => (x as Status).data.messageId === messageId) as
      | Status
      | undefined;

  beforeAll(async () => {
    t = await startTestHub(ctx.url(), {
      config: { outbox: { retryBaseMs: 1000, retryMaxMs: 60_000, giveUpAfterMs: 10 * 60_000 } },
    });
    clock = t.clock as ManualClock;
    t.platform.addBot("token-out-01", "bot-out");
    p = await t.addPortal("p1");
    const saved = await p.rpc.saveSettings({
      ...line,
      settings: { token: "token-out-01", secret: "echo-secret-1" },
    });
    hash = hashOf(saved.webhookUrl);
    await p.rpc.activate(line);
    // the customer writes first: the chat context and its last inbound time exist
    expect(
      (await t.webhook(hash, { update_id: 1, chat: 42, text: "hello", context: { thread: "T-42" } })).status,
    ).toBe(200);
    expect((await t.webhook(hash, { update_id: 2, chat: 43, text: "hi", window: true })).status).toBe(200);
  });
  afterAll(async () => t?.close());

  it("answers a send once stored, then sends it and reports the platform id", async () => {
    const r = await p.rpc.sendMessages({
      ...line,
      messages: [{ id: "m1", chat: { id: "42" }, text: "Hello!" }],
    });
    expect(r).toEqual({ accepted: ["m1"] });
    const s = await until(() => statusOf("m1"));
    expect(s.data).toMatchObject({ status: "sent", chat: { id: "42" } });
    const call = t.platform.callsTo("/send").find((c) => c.body.text === "Hello!");
    expect(call?.body.context).toEqual({ thread: "T-42" });
    expect(s.data.platformMessageId).toBeDefined();
    expect(await t.count("outbox")).toBe(0);
    // the portal repeats the call (it never saw the answer): nothing is sent twice
    expect(
      await p.rpc.sendMessages({ ...line, messages: [{ id: "m1", chat: { id: "42" }, text: "Hello!" }] }),
    ).toEqual({ accepted: ["m1"] });
    await t.hub.outbox.idle();
    expect(t.platform.callsTo("/send").filter((c) => c.body.text === "Hello!")).toHaveLength(1);
    // edit uses the stored platform id, whatever the portal passes
    await p.rpc.updateMessages({
      ...line,
      messages: [{ id: "m1", chat: { id: "42" }, platformMessageId: "bogus", text: "Hello again" }],
    });
    await until(() => t.platform.callsTo("/edit").length === 1);
    expect(t.platform.callsTo("/edit")[0].body).toEqual({
      chat: "42",
      id: s.data.platformMessageId,
      text: "Hello again",
    });
    // the edit's own status names its operation, so the sent message is not mistaken for it
    const edited = await until(() =>
      t.queue.list("deliveryStatus").find((x) => (x as Status).data.operation === "update"),
    );
    expect((edited as Status).data).toMatchObject({ messageId: "m1", status: "sent", operation: "update" });
    expect(s.data.operation).toBeUndefined();
  });

  it("answers before the platform has answered", async () => {
    t.platform.script("/send", { status: 200, body: { message_id: 777 }, hold: true });
    const r = await p.rpc.sendMessages({
      ...line,
      messages: [{ id: "held", chat: { id: "42" }, text: "slow platform" }],
    });
    expect(r).toEqual({ accepted: ["held"] });
    await until(() => t.platform.callsTo("/send").some((c) => c.body.text === "slow platform"));
    expect(statusOf("held")).toBeUndefined();
    t.platform.release();
    expect((await until(() => statusOf("held"))).data.platformMessageId).toBe("777");
  });

  it("waits at least the platform's retry-after, then delivers", async () => {
    t.platform.script("/send", { status: 429, body: { retry_after: 30 } });
    await p.rpc.sendMessages({ ...line, messages: [{ id: "m2", chat: { id: "42" }, text: "slow down" }] });
    await until(() => t.platform.callsTo("/send").filter((c) => c.body.text === "slow down").length === 1);
    await t.hub.outbox.idle();
    clock.advance(29_000);
    await t.hub.outbox.idle();
    expect(t.platform.callsTo("/send").filter((c) => c.body.text === "slow down")).toHaveLength(1);
    expect(statusOf("m2")).toBeUndefined();
    clock.advance(2_000);
    const s = await until(() => statusOf("m2"));
    expect(s.data.status).toBe("sent");
    expect(t.platform.callsTo("/send").filter((c) => c.body.text === "slow down")).toHaveLength(2);
  });

  it("retries a failing platform with growing back-off and finally reports failed", async () => {
    const fails = Array.from({ length: 30 }, () => ({ status: 500 }));
    t.platform.script("/send", ...fails);
    await p.rpc.sendMessages({ ...line, messages: [{ id: "m3", chat: { id: "42" }, text: "doomed" }] });
    await until(() => t.platform.callsTo("/send").some((c) => c.body.text === "doomed"));
    const tries = () => t.platform.callsTo("/send").filter((c) => c.body.text === "doomed").length;
    for (let i = 0; i < 40 && !statusOf("m3"); i++) {
      await t.hub.outbox.idle();
      clock.advance(30_000);
      await t.hub.outbox.idle();
    }
    const s = await until(() => statusOf("m3"));
    expect(s.data).toMatchObject({
      status: "failed",
      reason: "The channel had an error.",
      errorCode: "PLATFORM_ERROR",
    });
    // 1 s, 2 s, 4 s … capped at 60 s within 10 minutes: more than 5 tries, far fewer than one per 30 s step
    expect(tries()).toBeGreaterThan(5);
    expect(tries()).toBeLessThan(20);
    t.platform.clearScripts();
    await until(async () => (await t.count("outbox")) === 0);
  });

  it("reports a refusal by the platform at once, in words an operator understands", async () => {
    t.platform.script("/send", { status: 403 });
    await p.rpc.sendMessages({ ...line, messages: [{ id: "m4", chat: { id: "44" }, text: "blocked" }] });
    const s = await until(() => statusOf("m4"));
    expect(s.data).toMatchObject({ status: "failed", reason: "The customer blocked the bot." });
    expect(t.platform.callsTo("/send").filter((c) => c.body.text === "blocked")).toHaveLength(1);
  });

  it("refuses what the channel does not allow before calling the platform", async () => {
    const before = t.platform.calls.length;
    await p.rpc.sendMessages({
      ...line,
      messages: [
        { id: "c1", chat: { id: "50" }, text: "x".repeat(101) },
        {
          id: "c2",
          chat: { id: "51" },
          files: [1, 2, 3].map((i) => ({
            url: `https://files.example/${i}`,
            name: `f${i}.png`,
            kind: "image" as const,
          })),
        },
        {
          id: "c3",
          chat: { id: "52" },
          files: [{ url: "https://files.example/v", name: "v.mp4", kind: "video" as const }],
        },
        {
          id: "c4",
          chat: { id: "53" },
          files: [{ url: "https://files.example/b", name: "b.pdf", size: 5 << 20 }],
        },
      ],
    });
    await p.rpc.deleteMessages({
      ...line,
      messages: [{ id: "m1", chat: { id: "42" }, platformMessageId: "1" }],
    });
    const reasons = await until(() => {
      const all = ["c1", "c2", "c3", "c4", "m1"].map((id) =>
        t.queue
          .list("deliveryStatus")
          .find((x) => (x as Status).data.messageId === id && (x as Status).data.status === "failed"),
      );
      return all.every(Boolean) && all.map((x) => (x as Status).data.reason);
    });
    expect(reasons[0]).toContain("longer than this channel allows (100");
    expect(reasons[1]).toContain("Too many files");
    expect(reasons[2]).toContain("does not accept video files");
    expect(reasons[3]).toContain("larger than this channel allows");
    expect(reasons[4]).toContain("does not allow deleting");
    const refusedDelete = t.queue
      .list("deliveryStatus")
      .find((x) => (x as Status).data.messageId === "m1" && (x as Status).data.status === "failed");
    expect((refusedDelete as Status).data.operation).toBe("delete");
    expect(t.platform.calls.length).toBe(before);
  });

  it("refuses a free reply outside the virtual channel's reply window", async () => {
    // the portal may name the chat's virtual type, as its packets do: the real line answers
    await p.rpc.sendMessages({
      line: "L1",
      connector: "echo.window",
      messages: [{ id: "w1", chat: { id: "43" }, text: "in time" }],
    });
    const ok = await until(() => statusOf("w1"));
    expect(ok.data.status).toBe("sent");
    expect(ok.connector).toBe("echo.window");
    clock.advance(25 * 3600_000);
    await p.rpc.sendMessages({ ...line, messages: [{ id: "w2", chat: { id: "43" }, text: "too late" }] });
    const late = await until(() => statusOf("w2"));
    expect(late.data).toMatchObject({ status: "failed", errorCode: "CAPABILITY_REFUSED" });
    expect(late.data.reason).toContain("24 hours");
  });
});
