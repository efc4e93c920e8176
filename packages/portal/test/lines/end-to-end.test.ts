import { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { apiModule } from "../../src/api/module.js";
import { authModule } from "../../src/auth/module.js";
import { contactsModule } from "../../src/contacts/module.js";
import { filesModule } from "../../src/files/module.js";
import { hubModule } from "../../src/hub/client.js";
import { inputModule } from "../../src/input/module.js";
import { linesModule } from "../../src/lines/module.js";
import { messagesModule } from "../../src/messages/module.js";
import { textPacket } from "../support/hub-stub.js";
import { type CorePortal, startCorePortal, until } from "../support/portal.js";

/**
 * The real core modules (signed input, contacts, messages, hub client against a signed hub stub)
 * with lines and the API: a packet from the hub becomes a session offered to an operator, whose
 * reply through the API reaches the hub as a signed `sendMessages` call.
 */
describeEachDialect("lines with the core modules", (db) => {
  let p: CorePortal;
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 10));
  beforeEach(async () => {
    p = await startCorePortal(db.url(), {
      clock,
      modules: [
        authModule,
        hubModule(),
        contactsModule(),
        filesModule(),
        messagesModule(),
        inputModule(),
        linesModule,
        apiModule,
      ],
    });
  });
  afterEach(async () => {
    await p.close();
  });

  it("routes a hub packet to an operator and sends the operator's reply back through the hub", async () => {
    const { accounts } = p.ctx.services.auth;
    const { store, router } = p.ctx.services.lines;
    const op = await accounts.create({
      name: "Ann",
      email: `ann-${Date.now()}@example.test`,
      role: "operator",
      password: "correct horse battery",
    });
    await router.setPresence(op.id, "online");
    const line = await store.create({ name: "Support", welcomeText: "Welcome to support!" }, [op.id]);

    const delivered = await p.deliver([
      textPacket({ chat: `chat-${line.id}`, text: "my order is late" }, { line: line.id }),
    ]);
    expect(delivered.status).toBe(200);
    expect(delivered.body.taken).toHaveLength(1);
    const chatId = (p.events.find((e) => e.event === "message.received")!.payload as any).chat.id as string;
    const offered = await until(
      async () => {
        await router.settled();
        const s = await router.latestOfChat(chatId);
        return s?.state === "offered" ? s : undefined;
      },
      { what: "the session offered" },
    );
    const session = offered!;
    expect((await router.offers(session.id)).map((o) => o.operatorId)).toEqual([op.id]);
    // The welcome went out through the hub as a system message.
    await until(() => p.hub.callsOf("sendMessages").length >= 1, { what: "the welcome sent" });
    expect(p.hub.callsOf("sendMessages")[0].messages[0].text).toBe("Welcome to support!");

    const signIn = await p.app.inject({
      method: "POST",
      url: "/api/session",
      payload: { email: op.email, password: "correct horse battery" },
    });
    const h = {
      cookie: `openlines_session=${signIn.cookies.find((c) => c.name === "openlines_session")!.value}`,
      "x-csrf-token": signIn.json().csrfToken,
    };
    const reply = await p.app.inject({
      method: "POST",
      url: `/api/chats/${chatId}/messages`,
      headers: h,
      payload: { text: "Let me check that for you." },
    });
    expect(reply.statusCode).toBe(201);
    await until(
      () => p.hub.callsOf("sendMessages").some((c) => c.messages[0].text === "Let me check that for you."),
      {
        what: "the reply sent",
      },
    );
    expect((await router.session(session.id))!).toMatchObject({ state: "active", operatorId: op.id });
    const detail = await p.app.inject({ method: "GET", url: `/api/chats/${chatId}`, headers: h });
    expect(detail.statusCode).toBe(200);
    const texts = detail.json().history.map((m: any) => m.text);
    expect(texts).toEqual(
      expect.arrayContaining(["my order is late", "Welcome to support!", "Let me check that for you."]),
    );
  });
});
