import { systemClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashOf, startTestHub, type TestHub } from "../../../hub/test/support/hub-harness.js";
import { type CorePortal, freePort, startCorePortal, until } from "../support/portal.js";

/**
 * The portal's core against the real hub (its queue, signed RPC and the echo connector with its
 * fake platform), both on one database: a customer's message reaches the portal exactly once,
 * an operator's reply reaches the platform and its delivery status comes back.
 */
describeEachDialect("portal core with the real hub", (d) => {
  let hub: TestHub;
  let portal: CorePortal;
  let hash: string;
  const line = { line: "support", connector: "echo" };

  beforeAll(async () => {
    hub = await startTestHub(d.url(), { queue: "real", clock: systemClock });
    const port = await freePort();
    const { secret, rpc } = await hub.addPortal("shop", `http://127.0.0.1:${port}`);
    portal = await startCorePortal(d.url(), {
      clock: systemClock,
      listenPort: port,
      config: { portalId: "shop", hubUrl: hub.url, hubSecret: secret },
    });
    hub.platform.addBot("token-e2e-portal", "bot-portal");
    hash = hashOf(
      (await rpc.saveSettings({ ...line, settings: { token: "token-e2e-portal", secret: "echo-secret-1" } }))
        .webhookUrl,
    );
    await rpc.activate(line);
  });
  afterAll(async () => {
    await hub?.close();
    await portal?.close();
  });

  it("takes a customer's message once and sends the operator's reply to the platform", async () => {
    const update = { update_id: 900, chat: 71, user: { id: 71, name: "Kim" }, text: "Where is my order?" };
    expect((await hub.webhook(hash, update)).status).toBe(200);
    const received = await until(() => portal.events.find((e) => e.event === "message.received"), {
      what: "the message through the hub's queue",
    });
    expect(received.payload.message.text).toBe("Where is my order?");
    expect(received.payload.contact.name).toBe("Kim");
    expect(received.payload.chat).toMatchObject({
      lineId: "support",
      connector: "echo",
      externalChatId: "71",
    });
    await hub.webhook(hash, update); // the platform's redelivery
    await until(
      async () => (await hub.hub.services.db.selectFrom("packet").select("id").execute()).length === 0,
      {
        what: "the hub to drop acknowledged packets",
      },
    );
    expect(portal.events.filter((e) => e.event === "message.received")).toHaveLength(1);

    const chatId = received.payload.chat.id;
    const reply = await portal.ctx.services.messages.send({ chatId, authorId: "op-1", text: "On its way" });
    expect(reply.status).toBe("queued");
    const sent = await until(
      async () => {
        const m = await portal.ctx.services.messages.get(reply.id);
        return m?.status === "sent" ? m : undefined;
      },
      { what: "the delivery status from the hub" },
    );
    expect(sent.platformMessageId).toBeTruthy();
    expect(hub.platform.callsTo("/send").at(-1)?.body).toMatchObject({ chat: "71", text: "On its way" });
    const hops = (await portal.ctx.services.messages.ledger(reply.id)).map((h) => h.hop);
    expect(hops).toEqual(["stored", "queued_to_hub", "sent_to_platform"]);

    // The echo channel's real capabilities (from the hub's status): 100 characters, no delete.
    await expect(
      portal.ctx.services.messages.send({ chatId, authorId: "op-1", text: "x".repeat(101) }),
    ).rejects.toMatchObject({ code: "CAPABILITY_REFUSED", details: { reason: "textTooLong" } });
    await expect(portal.ctx.services.messages.remove(reply.id)).rejects.toMatchObject({
      code: "CAPABILITY_REFUSED",
      details: { reason: "delete" },
    });
  });
});
