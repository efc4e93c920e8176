import { OpenlinesError } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startTestPortal, type TestPortal } from "../support/lines-harness.js";

describeEachDialect("operators' API: administration and workspace extras", (db) => {
  let p: TestPortal;
  let h: Record<string, string>;
  let adminId: string;
  beforeEach(async () => {
    p = await startTestPortal(db.url());
    const admin = await p.operator({ role: "admin", name: "admin" });
    adminId = admin.id;
    const s = await p.signIn(admin.email, admin.password);
    h = { cookie: s.cookie, "x-csrf-token": s.csrf };
  });
  afterEach(async () => {
    await p.close();
  });
  const call = (method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: unknown) =>
    p.app.inject({
      method,
      url,
      headers: h,
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  it("creates operators and a line with them, and routes the line's chats by its settings", async () => {
    const made = await call("POST", "/api/operators", {
      name: "Olga",
      email: "Olga.Example@Example.test",
      password: "a long enough password",
      maxChats: 3,
    });
    expect(made.statusCode).toBe(201);
    expect(made.json().operator).toMatchObject({
      email: "olga.example@example.test",
      role: "operator",
      mustChangePassword: true,
    });
    const dup = await call("POST", "/api/operators", {
      name: "x",
      email: "olga.example@example.test",
      password: "a long enough password",
    });
    expect(dup.statusCode).toBe(409);
    const short = await call("POST", "/api/operators", {
      name: "x",
      email: "x@example.test",
      password: "short",
    });
    expect(short.json().error.code).toBe("VALIDATION_FAILED");
    const olga = made.json().operator.id;
    const line = await call("POST", "/api/lines", {
      name: "Sales",
      distribution: "leastBusy",
      noAnswerTimeoutMs: 30_000,
      operatorIds: [olga],
      workingHours: { timezone: "UTC", intervals: [{ day: 1, from: "00:00", to: "24:00" }] },
    });
    expect(line.statusCode).toBe(201);
    expect(line.json().line).toMatchObject({ name: "Sales", distribution: "leastBusy", operatorIds: [olga] });
    const bad = await call("POST", "/api/lines", { name: "X", distribution: "random" });
    expect(bad.statusCode).toBe(422);
    const lineId = line.json().line.id;
    const patched = await call("PATCH", `/api/lines/${lineId}`, {
      welcomeText: "Hi!",
      operatorIds: [olga, adminId],
    });
    expect(patched.json().line).toMatchObject({ welcomeText: "Hi!", operatorIds: [olga, adminId] });
    await p.customerWrites(`${lineId}-1`, lineId, "hello");
    expect(p.messages.textsTo(`${lineId}-1`)).toEqual(["Hi!"]);
    // The line has an open session: it cannot be deleted.
    expect((await call("DELETE", `/api/lines/${lineId}`)).statusCode).toBe(409);
    const disabled = await call("PATCH", `/api/operators/${olga}`, { status: "disabled" });
    expect(disabled.json().operator.status).toBe("disabled");
    expect((await call("DELETE", `/api/operators/${adminId}`)).statusCode).toBe(409);
    expect((await call("DELETE", `/api/operators/${olga}`)).statusCode).toBe(200);
    expect((await call("GET", "/api/operators")).json().operators.map((o: any) => o.id)).not.toContain(olga);
  });

  it("shows a line's hub queue with dead letters and re-drives them", async () => {
    const line = await p.line({}, []);
    p.hub.answers.status = {
      lines: [
        {
          line,
          connector: "telegram",
          status: "needsAttention",
          reason: "webhook lost",
          queue: { waiting: 3, attempts: 4, blockedUntil: 123, firstFailureAt: 100, deadLetters: 1 },
        },
      ],
    };
    p.hub.answers.deadLetters = {
      items: [
        {
          id: "d1",
          line,
          connector: "telegram",
          type: "messages",
          created: 1,
          expiredAt: 2,
          reason: "expired",
          packet: {},
        },
      ],
    };
    p.hub.answers.redrive = { requeued: 1 };
    const q = await call("GET", `/api/lines/${line}/queue`);
    expect(q.statusCode).toBe(200);
    expect(q.json().connectors[0].queue.waiting).toBe(3);
    expect(q.json().deadLetters.map((d: any) => d.id)).toEqual(["d1"]);
    const attention = await call("GET", "/api/lines/attention");
    expect(attention.json().items).toEqual([
      expect.objectContaining({ lineId: line, connector: "telegram", status: "needsAttention" }),
    ]);
    const r = await call("POST", `/api/lines/${line}/queue/redrive`, { ids: ["d1"] });
    expect(r.json()).toEqual({ requeued: 1 });
    expect(p.hub.calls.at(-1)).toEqual({ method: "redrive", args: { line, ids: ["d1"] } });
  });

  it("answers with the hub's error code when the hub cannot be reached", async () => {
    const line = await p.line({}, []);
    p.hub.answers.testConnect = new OpenlinesError("RPC_UNREACHABLE");
    const r = await call("POST", `/api/lines/${line}/connectors/telegram/test`);
    expect(r.statusCode).toBe(502);
    expect(r.json().error.code).toBe("RPC_UNREACHABLE");
  });

  it("keeps labels and canned answers, and transfers and closes through the API", async () => {
    const a = await p.operator({ name: "a" });
    const line = await p.line({}, [adminId, a.id]);
    await p.customerWrites(`${line}-c`, line, "hello");
    const labels = await call("PUT", `/api/chats/${line}-c/labels`, { labels: ["vip", "billing", "vip"] });
    expect(labels.json().labels).toEqual(["billing", "vip"]);
    const chats = await call("GET", "/api/chats?filter=queue");
    const chat = chats.json().chats.find((c: any) => c.chatId === `${line}-c`);
    expect(chat.labels).toEqual(["billing", "vip"]);
    const sessionId = chat.id;
    const taken = await call("POST", `/api/sessions/${sessionId}/take`);
    expect(taken.json().session).toMatchObject({ state: "active", operatorId: adminId });
    const moved = await call("POST", `/api/sessions/${sessionId}/transfer`, { operatorId: a.id });
    expect(moved.json().session.operatorId).toBe(a.id);
    expect((await call("POST", `/api/sessions/${sessionId}/transfer`, {})).statusCode).toBe(422);
    const note = await call("POST", `/api/chats/${line}-c/messages`, { text: "customer is VIP", note: true });
    expect(note.statusCode).toBe(201);
    expect(p.messages.sent.at(-1)).toMatchObject({ internal: true });

    const shared = await call("POST", "/api/canned-answers", {
      title: "Hi",
      text: "Hello, how can I help?",
      shared: true,
    });
    expect(shared.statusCode).toBe(201);
    const sa = await p.signIn((await p.ctx.services.auth.accounts.get(a.id)).email, "correct horse battery");
    const ha = { cookie: sa.cookie, "x-csrf-token": sa.csrf };
    const own = await p.app.inject({
      method: "POST",
      url: "/api/canned-answers",
      headers: ha,
      payload: { title: "Bye", text: "Goodbye!" },
    });
    const list = await p.app.inject({ method: "GET", url: "/api/canned-answers", headers: ha });
    expect(list.json().answers.map((x: any) => x.title)).toEqual(["Bye", "Hi"]);
    const edit = await p.app.inject({
      method: "PATCH",
      url: `/api/canned-answers/${shared.json().answer.id}`,
      headers: ha,
      payload: { text: "x" },
    });
    expect(edit.statusCode).toBe(403);
    expect(
      (
        await p.app.inject({
          method: "DELETE",
          url: `/api/canned-answers/${own.json().answer.id}`,
          headers: ha,
        })
      ).statusCode,
    ).toBe(200);

    const closed = await p.app.inject({
      method: "POST",
      url: `/api/sessions/${sessionId}/close`,
      headers: ha,
    });
    expect(closed.json().session.state).toBe("closed");
    const mine = await p.app.inject({ method: "GET", url: "/api/chats?filter=closed", headers: ha });
    expect(mine.json().chats.map((c: any) => c.id)).toEqual([sessionId]);
  });

  it("closes the session without asking for a rating when the customer leaves the chat", async () => {
    const line = await p.line({}, [adminId]);
    await p.customerWrites(`${line}-gone`, line, "hello");
    const s = (await p.router.latestOfChat(`${line}-gone`))!;
    await p.router.take(s.id, adminId);
    p.ctx.bus.emit("chat.closedByUser", { chatId: `${line}-gone` });
    await p.settled();
    expect((await p.router.session(s.id))!).toMatchObject({ state: "closed", closeReason: "closedByUser" });
    expect(p.messages.textsTo(`${line}-gone`)).toEqual([]);
  });
});
