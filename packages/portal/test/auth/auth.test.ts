import { describeEachDialect } from "@openlines/store/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../src/auth/passwords.js";
import { startTestPortal, type TestPortal } from "../support/lines-harness.js";

describe("password hashing", () => {
  it("stores scrypt with its parameters and a random salt, and verifies only the right password", async () => {
    const a = await hashPassword("correct horse battery");
    const b = await hashPassword("correct horse battery");
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse battery", a)).toBe(true);
    expect(await verifyPassword("correct horse batterY", a)).toBe(false);
    expect(await verifyPassword("correct horse battery", "plain")).toBe(false);
  });
});

describeEachDialect("operators' authentication", (db) => {
  let p: TestPortal;
  beforeEach(async () => {
    p = await startTestPortal(db.url());
  });
  afterEach(async () => {
    await p.close();
  });

  it("answers 401 to a call without a session", async () => {
    for (const url of ["/api/chats", "/api/session", "/api/lines"]) {
      const r = await p.app.inject({ method: "GET", url });
      expect(r.statusCode).toBe(401);
      expect(r.json().error.code).toBe("UNAUTHORIZED");
    }
    const r = await p.app.inject({
      method: "GET",
      url: "/api/chats",
      headers: { authorization: "Bearer olt_nope" },
    });
    expect(r.statusCode).toBe(401);
  });

  it("sets an HttpOnly SameSite=Lax session cookie and signs out", async () => {
    const op = await p.operator();
    const r = await p.app.inject({
      method: "POST",
      url: "/api/session",
      payload: { email: op.email.toUpperCase(), password: op.password },
    });
    expect(r.statusCode).toBe(200);
    const c = r.cookies.find((x) => x.name === "openlines_session")!;
    expect(c).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    expect(c.secure).toBeFalsy();
    const cookie = `openlines_session=${c.value}`;
    const me = await p.app.inject({ method: "GET", url: "/api/session", headers: { cookie } });
    expect(me.json()).toMatchObject({ operator: { id: op.id }, csrfToken: r.json().csrfToken });
    const out = await p.app.inject({
      method: "DELETE",
      url: "/api/session",
      headers: { cookie, "x-csrf-token": r.json().csrfToken },
    });
    expect(out.statusCode).toBe(200);
    expect((await p.app.inject({ method: "GET", url: "/api/session", headers: { cookie } })).statusCode).toBe(
      401,
    );
  });

  it("marks the cookie Secure when the portal's public URL is https", async () => {
    await p.close();
    p = await startTestPortal(db.url(), { publicUrl: "https://help.example.test" });
    const op = await p.operator();
    const r = await p.app.inject({
      method: "POST",
      url: "/api/session",
      payload: { email: op.email, password: op.password },
    });
    expect(r.cookies.find((x) => x.name === "openlines_session")!.secure).toBe(true);
  });

  it("refuses a wrong password and rate-limits repeated failures per email and address", async () => {
    const op = await p.operator();
    const attempt = (password: string) =>
      p.app.inject({ method: "POST", url: "/api/session", payload: { email: op.email, password } });
    for (let i = 0; i < 5; i++) expect((await attempt("wrong password")).statusCode).toBe(401);
    const blocked = await attempt(op.password);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe("RATE_LIMITED");
    await p.advance(15 * 60_000 + 1);
    expect((await attempt(op.password)).statusCode).toBe(200);
  });

  it("forbids admin routes to an operator and allows them to an admin", async () => {
    const op = await p.operator();
    const admin = await p.operator({ role: "admin" });
    const s = await p.signIn(op.email, op.password);
    const body = { name: "Sales" };
    const r = await p.app.inject({
      method: "POST",
      url: "/api/lines",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf },
      payload: body,
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe("FORBIDDEN");
    const ops = await p.app.inject({
      method: "DELETE",
      url: `/api/operators/${admin.id}`,
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf },
    });
    expect(ops.statusCode).toBe(403);
    const sa = await p.signIn(admin.email, admin.password);
    const ok = await p.app.inject({
      method: "POST",
      url: "/api/lines",
      headers: { cookie: sa.cookie, "x-csrf-token": sa.csrf },
      payload: body,
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().line).toMatchObject({ name: "Sales", distribution: "roundRobin" });
  });

  it("requires the session's CSRF token on every cookie-authenticated write", async () => {
    const op = await p.operator();
    const s = await p.signIn(op.email, op.password);
    const put = (headers: Record<string, string>) =>
      p.app.inject({
        method: "PUT",
        url: "/api/presence",
        headers: { cookie: s.cookie, ...headers },
        payload: { presence: "away" },
      });
    const missing = await put({});
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.code).toBe("CSRF_TOKEN_INVALID");
    expect((await put({ "x-csrf-token": `${s.csrf}x` })).statusCode).toBe(403);
    const other = await p.signIn(op.email, op.password); // another session's token does not fit
    expect((await put({ "x-csrf-token": other.csrf })).statusCode).toBe(403);
    expect((await p.ctx.services.auth.accounts.get(op.id)).presence).toBe("online");
    expect((await put({ "x-csrf-token": s.csrf })).statusCode).toBe(200);
    expect((await p.ctx.services.auth.accounts.get(op.id)).presence).toBe("away");
  });

  it("changes a password with the current one and refuses a disabled account", async () => {
    const op = await p.operator();
    const s = await p.signIn(op.email, op.password);
    const h = { cookie: s.cookie, "x-csrf-token": s.csrf };
    const wrong = await p.app.inject({
      method: "POST",
      url: "/api/session/password",
      headers: h,
      payload: { currentPassword: "not it", newPassword: "a brand new passphrase" },
    });
    expect(wrong.statusCode).toBe(403);
    const ok = await p.app.inject({
      method: "POST",
      url: "/api/session/password",
      headers: h,
      payload: { currentPassword: op.password, newPassword: "a brand new passphrase" },
    });
    expect(ok.statusCode).toBe(200);
    await expect(p.signIn(op.email, op.password)).rejects.toThrow("401");
    await p.signIn(op.email, "a brand new passphrase");
    await p.ctx.services.auth.accounts.update(op.id, { status: "disabled" });
    const r = await p.app.inject({
      method: "POST",
      url: "/api/session",
      payload: { email: op.email, password: "a brand new passphrase" },
    });
    expect(r.statusCode).toBe(403);
    expect(
      (await p.app.inject({ method: "GET", url: "/api/chats", headers: { cookie: s.cookie } })).statusCode,
    ).toBe(403);
  });

  it("accepts an API token without CSRF and stops accepting it once revoked", async () => {
    const op = await p.operator();
    const s = await p.signIn(op.email, op.password);
    const created = await p.app.inject({
      method: "POST",
      url: "/api/tokens",
      headers: { cookie: s.cookie, "x-csrf-token": s.csrf },
      payload: { name: "crm" },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect(token).toMatch(/^olt_/);
    const call = () =>
      p.app.inject({
        method: "PUT",
        url: "/api/presence",
        headers: { authorization: `Bearer ${token}` },
        payload: { presence: "away" },
      });
    expect((await call()).statusCode).toBe(200);
    const listed = await p.app.inject({
      method: "GET",
      url: "/api/tokens",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(JSON.stringify(listed.json())).not.toContain(token);
    await p.app.inject({
      method: "DELETE",
      url: `/api/tokens/${id}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await call()).statusCode).toBe(401);
  });
});

describeEachDialect("first admin", (db) => {
  it("is created with a one-time password only when no operator exists", async () => {
    const p = await startTestPortal(db.url());
    try {
      const accounts = p.ctx.services.auth.accounts;
      expect(await accounts.count()).toBe(0);
      const first = await accounts.ensureAdmin();
      expect(first).toMatchObject({ email: "admin@localhost" });
      expect(await accounts.ensureAdmin()).toBeNull();
      const s = await p.signIn("admin@localhost", first!.password);
      const me = await p.app.inject({ method: "GET", url: "/api/session", headers: { cookie: s.cookie } });
      expect(me.json().operator).toMatchObject({ role: "admin", mustChangePassword: true });
    } finally {
      await p.close();
    }
  });
});
