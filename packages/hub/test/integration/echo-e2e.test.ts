import { systemClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashOf, startTestHub, type TestHub, until } from "../support/hub-harness.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";

describeEachDialect("the hub end to end with the real queue and a portal", (ctx) => {
  let t: TestHub;
  let stub: PortalStub;
  let rpc: Awaited<ReturnType<TestHub["addPortal"]>>["rpc"];
  let hash: string;
  const line = { line: "support", connector: "echo" };
  beforeAll(async () => {
    t = await startTestHub(ctx.url(), { queue: "real", clock: systemClock });
    const portalOptions = { secret: "" };
    stub = await startPortalStub(portalOptions);
    const p = await t.addPortal("shop", stub.url);
    portalOptions.secret = p.secret;
    rpc = p.rpc;
    t.platform.addBot("token-e2e-001", "bot-e2e");
    hash = hashOf(
      (await rpc.saveSettings({ ...line, settings: { token: "token-e2e-001", secret: "echo-secret-1" } }))
        .webhookUrl,
    );
    await rpc.activate(line);
  });
  afterAll(async () => {
    await t?.close();
    await stub?.close();
  });

  it("delivers a customer message to the portal and the reply's delivery status back", async () => {
    const res = await t.webhook(hash, {
      update_id: 500,
      chat: 7,
      user: { id: 7, name: "Kim" },
      text: "Where is my order? :package:",
    });
    expect(res.status).toBe(200);
    await stub.waitFor(() => stub.requests.some((r) => r.body.packets.some((p) => p.type === "messages")));
    const msg = stub.requests.flatMap((r) => r.body.packets).find((p) => p.type === "messages");
    expect(msg).toMatchObject({ portal: "shop", line: "support", connector: "echo" });
    if (msg?.type !== "messages") throw new Error("no message");
    expect(msg.data.user).toMatchObject({ id: "7", name: "Kim" });
    expect(msg.data.message.text).toBe("Where is my order? 📦");
    // a re-delivery after the portal took it is not delivered again
    await t.webhook(hash, { update_id: 500, chat: 7, text: "Where is my order? :package:" });

    expect(
      await rpc.sendMessages({
        ...line,
        messages: [{ id: "reply-1", chat: { id: "7" }, text: "On its way" }],
      }),
    ).toEqual({
      accepted: ["reply-1"],
    });
    await stub.waitFor(() =>
      stub.requests.some((r) => r.body.packets.some((p) => p.type === "deliveryStatus")),
    );
    const status = stub.requests.flatMap((r) => r.body.packets).find((p) => p.type === "deliveryStatus");
    expect(status).toMatchObject({ data: { messageId: "reply-1", status: "sent", chat: { id: "7" } } });
    expect(t.platform.callsTo("/send").at(-1)?.body).toMatchObject({ chat: "7", text: "On its way" });
    expect(stub.requests.flatMap((r) => r.body.packets).filter((p) => p.type === "messages")).toHaveLength(1);
    // the hub deletes taken packets once it has read the portal's answer
    await until(async () => (await rpc.status({})).lines[0].queue.waiting === 0);
  });
});
