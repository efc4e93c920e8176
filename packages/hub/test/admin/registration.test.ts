import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { registerPortal } from "../../src/admin/register.js";
import { ADMIN_TOKEN, startTestHub, type TestHub } from "../support/hub-harness.js";
import { type PortalStub, startPortalStub } from "../support/portal-stub.js";

describeEachDialect("portal registration", (ctx) => {
  let t: TestHub;
  let stub: PortalStub;
  const stubOptions = { secret: "whsec_bm90LXRoZS1yZWFsLXNlY3JldC0xMjM0NTY3OA==", now: () => Date.now() };
  beforeAll(async () => {
    t = await startTestHub(ctx.url());
    stubOptions.now = () => t.clock.now();
    stub = await startPortalStub(stubOptions);
  });
  afterAll(async () => {
    await stub?.close();
    await t?.close();
  });
  const admin = (path: string, body?: unknown, token = ADMIN_TOKEN) =>
    fetch(`${t.url}/admin${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("refuses the admin API without the hub admin token, and bad portal data", async () => {
    const res = await admin("/portals", { id: "x", name: "x", baseUrl: stub.url }, "wrong");
    expect(res.status).toBe(401);
    const bad = await admin("/portals", { id: "has space", name: "", baseUrl: "ftp://x" });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.code).toBe("VALIDATION_FAILED");
    expect(await t.count("portal")).toBe(0);
  });

  it("registers a portal that knows its secret and activates it after a signed test packet", async () => {
    const r = await registerPortal(
      { portals: t.hub.portals, clock: t.clock, fetch },
      { id: "acme", name: "ACME", baseUrl: `${stub.url}/` },
      {
        onSecret: (secret) => {
          stubOptions.secret = secret;
        },
      },
    );
    expect(r).toMatchObject({ id: "acme", state: "active" });
    expect(r.secret).toMatch(/^whsec_/);
    expect(stub.requests.at(-1)?.body.packets[0]).toMatchObject({ type: "testConnection", portal: "acme" });
    const row = await t.hub.services.db
      .selectFrom("portal")
      .selectAll()
      .where("id", "=", "acme")
      .executeTakeFirstOrThrow();
    expect(row.secret_enc).not.toContain(r.secret!.slice(6));
    // the portal can call the hub with that secret
    const dup = await admin("/portals", { id: "acme", name: "again", baseUrl: stub.url });
    expect(dup.status).toBe(409);
  });

  it("keeps a portal pending until it has the secret, then a re-test activates it", async () => {
    stubOptions.secret = "whsec_bm90LXRoZS1yZWFsLXNlY3JldC0xMjM0NTY3OA==";
    const res = await admin("/portals", { id: "beta", name: "Beta", baseUrl: stub.url });
    expect(res.status).toBe(201);
    const r = await res.json();
    expect(r).toMatchObject({ id: "beta", state: "pending", error: { code: "RPC_FAILED" } });
    stubOptions.secret = r.secret;
    const again = await admin("/portals/beta/test", {});
    expect(await again.json()).toMatchObject({ id: "beta", state: "active" });
    const list = await (await admin("/portals")).json();
    expect(list.portals.map((p: { id: string; state: string }) => [p.id, p.state])).toEqual([
      ["acme", "active"],
      ["beta", "active"],
    ]);
    expect(JSON.stringify(list)).not.toContain("whsec_");
    const off = await admin("/portals/beta/disable", {});
    expect(await off.json()).toEqual({ id: "beta", state: "disabled" });
  });

  it("leaves an unreachable portal pending with a clear error", async () => {
    const res = await admin("/portals", { id: "gamma", name: "Gamma", baseUrl: "http://127.0.0.1:9" });
    const r = await res.json();
    expect(r).toMatchObject({ state: "pending", error: { code: "RPC_UNREACHABLE" } });
  });
});
