import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AllInOne, startAllInOne } from "../src/all-in-one.js";

const run = promisify(execFile);
const cli = join(import.meta.dirname, "../bin/openlines.js");

describe("the all-in-one start", () => {
  let dataDir: string;
  let server: AllInOne;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "openlines-aio-"));
    server = await startAllInOne({ port: 0, host: "127.0.0.1", dataDir, env: { LOG_LEVEL: "warn" } });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("reports both services on /healthz", async () => {
    const r = await fetch(`${server.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, hub: "up", portal: "up" });
  });

  it("registers the embedded portal on the hub as active", async () => {
    const portal = await server.hub.portals.get("local");
    expect(portal?.state).toBe("active");
  });

  it("creates a first admin with a one-time password that signs in", async () => {
    expect(server.admin?.email).toBeTruthy();
    const r = await fetch(`${server.url}/api/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: server.admin!.email, password: server.admin!.password }),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("set-cookie")).toMatch(/HttpOnly/i);
  });

  it("serves a demo page that embeds the live chat of an active demo line", async () => {
    const html = await (await fetch(`${server.url}/demo`)).text();
    expect(server.demo?.lineHash).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(html).toContain(`/livechat/widget.js?line=${server.demo!.lineHash}`);
    const widget = await fetch(`${server.url}/livechat/widget.js?line=${server.demo!.lineHash}`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get("content-type")).toMatch(/javascript/);
  });

  it("keeps the signing secret out of the hub database in clear text", async () => {
    const { hubSecret } = JSON.parse(readFileSync(join(dataDir, "portal.json"), "utf8"));
    expect(hubSecret).toMatch(/^whsec_/);
    expect(readFileSync(join(dataDir, "hub.db")).includes(Buffer.from(hubSecret))).toBe(false);
  });

  it("answers an unknown API route with a JSON 404 and other paths with the workspace", async () => {
    const api = await fetch(`${server.url}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect((await api.json()).error.code).toBe("NOT_FOUND");
    const page = await fetch(`${server.url}/chats/123`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
  });
});

describe("the openlines command", () => {
  it("lists dead letters and re-drives them on the hub's database", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "openlines-cli-"));
    const env = {
      ...process.env,
      OPENLINES_HUB_DATABASE_URL: `sqlite:${join(dataDir, "hub.db")}`,
      OPENLINES_HUB_KEY: "a-test-key-of-enough-length",
      LOG_LEVEL: "warn",
    };
    try {
      const dead = await run(process.execPath, [cli, "dead-letters", "--portal", "p1"], { env });
      expect(dead.stdout).toContain("0 dead letter(s)");
      const redrive = await run(process.execPath, [cli, "redrive", "--portal", "p1"], { env });
      expect(redrive.stdout).toContain("0 packet(s) back in the queue");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("refuses an unknown command with its usage and exit code 2", async () => {
    const r = await run(process.execPath, [cli, "frobnicate"]).catch((e) => e);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: openlines");
  });
});
