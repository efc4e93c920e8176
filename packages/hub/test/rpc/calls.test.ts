import { Calls, type ManualClock, PORTAL_HEADER, signedHeaders } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestHub, type TestHub } from "../support/hub-harness.js";

describeEachDialect("the portal-facing calls", (ctx) => {
  let t: TestHub;
  let p: Awaited<ReturnType<TestHub["addPortal"]>>;
  const line = { line: "L1", connector: "echo" };
  beforeAll(async () => {
    t = await startTestHub(ctx.url());
    t.platform.addBot("token-good-1", "bot-1", "Good bot");
    p = await t.addPortal("p1");
  });
  afterAll(async () => t?.close());

  const post = (method: string, body: string, headers: Record<string, string>) =>
    fetch(`${t.url}/rpc/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
  const signed = (body: string, o: { secret?: string; portal?: string; at?: number } = {}) => ({
    [PORTAL_HEADER]: o.portal ?? "p1",
    ...signedHeaders(o.secret ?? p.secret, body, o.at ?? t.clock.now()),
  });
  const nothingStored = async () => {
    expect(await t.count("line_connector")).toBe(0);
    expect(await t.count("connector_settings")).toBe(0);
    expect(await t.count("outbox")).toBe(0);
  };
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it("refuses a call without signature, with a wrong secret, stale, replayed or from an unknown portal", async () => {
    const body = JSON.stringify({ ...line, settings: { token: "token-good-1", secret: "echo-secret-1" } });
    const missing = await post("saveSettings", body, { [PORTAL_HEADER]: "p1" });
    expect([missing.status, await codeOf(missing)]).toEqual([401, "SIGNATURE_HEADER_MISSING"]);
    const wrong = await post(
      "saveSettings",
      body,
      signed(body, { secret: "whsec_d3JvbmctYnV0LXZhbGlkLXNlY3JldC0xMjM0NTY3OA==" }),
    );
    expect([wrong.status, await codeOf(wrong)]).toEqual([401, "SIGNATURE_MISMATCH"]);
    const stale = await post("saveSettings", body, signed(body, { at: t.clock.now() - 10 * 60_000 }));
    expect([stale.status, await codeOf(stale)]).toEqual([401, "SIGNATURE_TIMESTAMP_STALE"]);
    const unknown = await post("saveSettings", body, signed(body, { portal: "nobody" }));
    expect([unknown.status, await codeOf(unknown)]).toEqual([401, "PORTAL_UNKNOWN"]);
    const tampered = signed(body);
    const altered = await post("saveSettings", body.replace("L1", "L9"), tampered);
    expect([altered.status, await codeOf(altered)]).toEqual([401, "SIGNATURE_MISMATCH"]);
    await nothingStored();
    const statusBody = JSON.stringify({});
    const h = signed(statusBody);
    expect((await post("status", statusBody, h)).status).toBe(200);
    const replay = await post("status", statusBody, h);
    expect([replay.status, await codeOf(replay)]).toEqual([409, "SIGNATURE_REPLAYED"]);
  });

  it("refuses malformed JSON, an unknown method, an unknown connector type and invalid settings", async () => {
    const bad = "{oops";
    const notJson = await post("saveSettings", bad, signed(bad));
    expect([notJson.status, await codeOf(notJson)]).toEqual([400, "BODY_NOT_JSON"]);
    const m = await post("launchRockets", "{}", signed("{}"));
    expect([m.status, await codeOf(m)]).toEqual([404, "METHOD_UNKNOWN"]);
    await expect(p.rpc.saveSettings({ line: "L1", connector: "fax", settings: {} })).rejects.toMatchObject({
      code: "CONNECTOR_UNKNOWN",
      status: 400,
    });
    const invalid = await p.rpc
      .saveSettings({ ...line, settings: { token: "short" } })
      .catch((e: { code: string; status: number; details: { path: string }[] }) => e);
    expect(invalid).toMatchObject({ code: "SETTINGS_INVALID", status: 422 });
    expect((invalid as { details: { path: string }[] }).details.map((d) => d.path).sort()).toEqual([
      "secret",
      "token",
    ]);
    await expect(
      p.rpc.saveSettings({ line: "", connector: "echo", settings: {} } as never),
    ).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
    });
    await expect(p.rpc.activate(line)).rejects.toMatchObject({ code: "SETTINGS_MISSING" });
    await expect(
      p.rpc.sendMessages({ ...line, messages: [{ id: "m1", chat: { id: "c" } }] }),
    ).rejects.toMatchObject({
      code: "SETTINGS_MISSING",
    });
    await nothingStored();
  });

  it("refuses every method unsigned, with malformed JSON or with arguments of the wrong shape", async () => {
    for (const method of Object.keys(Calls)) {
      const unsigned = await post(method, "{}", { [PORTAL_HEADER]: "p1" });
      expect([method, unsigned.status, await codeOf(unsigned)]).toEqual([
        method,
        401,
        "SIGNATURE_HEADER_MISSING",
      ]);
      const broken = await post(method, "{", signed("{"));
      expect([method, broken.status, await codeOf(broken)]).toEqual([method, 400, "BODY_NOT_JSON"]);
      const wrong = await post(method, "[]", signed("[]"));
      expect([method, wrong.status, await codeOf(wrong)]).toEqual([method, 422, "VALIDATION_FAILED"]);
    }
    await nothingStored();
  });

  it("refuses a body over the limit with 413 before reading it", async () => {
    const body = JSON.stringify({
      ...line,
      settings: { token: "x".repeat(1024 * 1024), secret: "echo-secret-1" },
    });
    const res = await post("saveSettings", body, signed(body));
    expect([res.status, await codeOf(res)]).toEqual([413, "BODY_TOO_LARGE"]);
    await nothingStored();
  });

  it("lists connector types with their settings schema and capabilities", async () => {
    const { connectors } = await p.rpc.connectors({});
    const echo = connectors.find((c) => c.type === "echo");
    expect(echo?.capabilities.textMaxLength).toBe(100);
    expect(echo?.settingsSchema).toMatchObject({ type: "object", required: ["token", "secret"] });
    expect(connectors.find((c) => c.type === "echo.window")?.capabilities.replyWindowHours).toBe(24);
  });

  it("runs the line connector lifecycle: settings, test, activate, status, deactivate", async () => {
    const saved = await p.rpc.saveSettings({
      ...line,
      settings: { token: "token-good-1", secret: "echo-secret-1" },
    });
    expect(saved.status).toBe("new");
    expect(saved.webhookUrl).toMatch(new RegExp(`^${t.url}/webhook\\?line=[A-Za-z0-9_-]{32}$`));
    const sealed = await t.hub.services.db
      .selectFrom("connector_settings")
      .select("settings_enc")
      .executeTakeFirstOrThrow();
    expect(sealed.settings_enc).not.toContain("token-good-1");
    expect(await p.rpc.testConnect(line)).toEqual({ ok: true, account: { id: "bot-1", name: "Good bot" } });
    await expect(
      p.rpc.sendMessages({ ...line, messages: [{ id: "m1", chat: { id: "c" } }] }),
    ).rejects.toMatchObject({
      code: "LINE_INACTIVE",
    });
    const act = await p.rpc.activate(line);
    expect(act).toEqual({ status: "active", webhookUrl: saved.webhookUrl });
    expect(t.platform.callsTo("/setWebhook").at(-1)?.body).toEqual({ url: saved.webhookUrl });
    const { lines } = await p.rpc.status({});
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      line: "L1",
      connector: "echo",
      status: "active",
      account: { id: "bot-1" },
      webhookUrl: saved.webhookUrl,
      queue: { waiting: 0, attempts: 0, blockedUntil: null, deadLetters: 0 },
    });
    expect(lines[0].capabilities?.edit).toBe(true);
    await expect(p.rpc.templates(line)).rejects.toMatchObject({ code: "CAPABILITY_REFUSED" });
    const again = await p.rpc.saveSettings({
      ...line,
      settings: { token: "token-bad-22", secret: "echo-secret-1" },
    });
    expect(again.webhookUrl).toBe(saved.webhookUrl);
    const failed = await p.rpc.testConnect(line);
    expect(failed).toMatchObject({ ok: false, error: { code: "PLATFORM_ERROR" } });
    expect(await p.rpc.deactivate(line)).toEqual({ status: "disabled" });
    expect(t.platform.callsTo("/deleteWebhook")).toHaveLength(1);
    expect((await p.rpc.status({ line: "L1" })).lines[0].status).toBe("disabled");
  });

  it("refuses calls from a portal that is not active", async () => {
    await t.hub.portals.create({
      id: "p-off",
      name: "off",
      baseUrl: "http://127.0.0.1:9",
      secret: p.secret,
      state: "disabled",
    });
    const body = "{}";
    const res = await post("status", body, signed(body, { portal: "p-off" }));
    expect([res.status, await codeOf(res)]).toEqual([403, "PORTAL_INACTIVE"]);
    (t.clock as ManualClock).advance(1);
  });
});
