import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { ManualClock } from "@openlines/protocol";
import { describeEachDialect } from "@openlines/store/testing";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { PortalConfig } from "../../src/context.js";
import { isPrivateAddress } from "../../src/files/safe-fetch.js";
import { textPacket } from "../support/hub-stub.js";
import { type CorePortal, startCorePortal, until } from "../support/portal.js";

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(200, 7)]);

/** A platform's file server: each path is one behaviour. */
function fileServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    switch (req.url) {
      case "/photo.png":
        res.writeHead(200, { "content-type": "image/png", "content-length": PNG.length });
        return res.end(PNG);
      case "/big.pdf":
        res.writeHead(200, { "content-type": "application/pdf", "content-length": 5000 });
        return res.end(Buffer.alloc(5000));
      case "/big-chunked.pdf": {
        // No length announced: the limit must be enforced while streaming.
        res.writeHead(200, { "content-type": "application/pdf" });
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
        return res.end();
      }
      case "/page.html":
        res.writeHead(200, { "content-type": "text/html" });
        return res.end("<html></html>");
      case "/slow.png":
        res.writeHead(200, { "content-type": "image/png" });
        res.write(PNG.subarray(0, 10));
        return; // never ends
      case "/redirect.png":
        res.writeHead(302, { location: "/photo.png" });
        return res.end();
      default:
        res.writeHead(404, { "content-type": "text/plain" });
        return res.end("not found");
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

describeEachDialect("portal files", (d) => {
  let files: { url: string; server: Server };
  let p: CorePortal | undefined;
  let clock: ManualClock;
  beforeAll(async () => {
    files = await fileServer();
  });
  afterAll(async () => {
    files.server.closeAllConnections();
    await new Promise((r) => files.server.close(r));
  });
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  const start = async (config: Partial<PortalConfig> = {}) => {
    clock = new ManualClock(Date.now());
    p = await startCorePortal(d.url(), {
      clock,
      config: {
        allowPrivateAddresses: true,
        files: { maxSizeBytes: 1000 },
        ...config,
      },
    });
    return p;
  };

  /** Delivers a message with these file links and waits for the downloads to finish. */
  async function receive(portal: CorePortal, links: Array<{ url: string; name: string; type?: string }>) {
    const user = `files-${Math.random().toString(36).slice(2)}`;
    await portal.deliver([textPacket({ user, text: "see attached", files: links })]);
    const received = portal.events.filter((e) => e.event === "message.received").at(-1)!;
    await portal.ctx.services.files.downloadsIdle();
    return {
      received: received.payload.message,
      after: (await portal.ctx.services.messages.get(received.payload.message.id))!,
    };
  }

  it("stores the message first with pending files, then downloads them and announces the update", async () => {
    const portal = await start();
    const { received, after } = await receive(portal, [
      { url: `${files.url}/photo.png`, name: "photo.png", type: "image/png" },
    ]);
    expect(received.files).toMatchObject([{ name: "photo.png", status: "pending" }]);
    expect(after.files).toMatchObject([
      { name: "photo.png", status: "ok", type: "image/png", size: PNG.length },
    ]);
    const { stream } = await portal.ctx.services.files.open(after.files[0].id);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(PNG)).toBe(true);
    // The message's update follows the file's (the messages module re-reads the message).
    await until(
      () =>
        portal.events.some(
          (e) =>
            e.event === "message.updated" &&
            e.payload.message.id === after.id &&
            e.payload.message.files[0].status === "ok",
        ),
      { what: "message.updated with the downloaded file" },
    );
  });

  it("downloads at start the files a stopped portal left pending", async () => {
    const stopped = await start({ files: { concurrency: 0 } });
    await stopped.deliver([
      textPacket({
        user: "resume",
        files: [{ url: `${files.url}/photo.png`, name: "later.png", type: "image/png" }],
      }),
    ]);
    const after = stopped.events.find((e) => e.event === "message.received")!.payload.message;
    expect(after.files[0].status).toBe("pending");
    await stopped.close();
    const restarted = await start();
    await until(async () => (await restarted.ctx.services.files.get(after.files[0].id))?.status === "ok", {
      what: "the pending download to resume",
    });
  });

  it("follows a redirect to the file", async () => {
    const portal = await start();
    const { after } = await receive(portal, [
      { url: `${files.url}/redirect.png`, name: "r.png", type: "image/png" },
    ]);
    expect(after.files[0]).toMatchObject({ status: "ok", size: PNG.length });
  });

  it("marks a file too large as failed, whether announced or streamed, and keeps the message", async () => {
    const portal = await start();
    const { after } = await receive(portal, [
      { url: `${files.url}/big.pdf`, name: "big.pdf", type: "application/pdf" },
      { url: `${files.url}/big-chunked.pdf`, name: "chunked.pdf", type: "application/pdf" },
    ]);
    expect(after.text).toBe("see attached");
    expect(after.files.map((f) => [f.status, f.reason])).toEqual([
      ["failed", "The file is larger than 1000 bytes."],
      ["failed", "The file is larger than 1000 bytes."],
    ]);
  });

  it("marks a file of a type not on the allow-list as failed", async () => {
    const portal = await start();
    const { after } = await receive(portal, [
      { url: `${files.url}/page.html`, name: "page.html", type: "image/png" },
    ]);
    expect(after.files[0]).toMatchObject({
      status: "failed",
      reason: "Files of type text/html are not accepted.",
    });
  });

  it("gives up on a slow download after the timeout", async () => {
    const portal = await start({ files: { maxSizeBytes: 1000, totalTimeoutMs: 500, connectTimeoutMs: 500 } });
    const { after } = await receive(portal, [
      { url: `${files.url}/slow.png`, name: "slow.png", type: "image/png" },
    ]);
    expect(after.files[0].status).toBe("failed");
    expect(after.files[0].reason).toMatch(/too long|timed out/);
  });

  it("marks a link answering 404 as failed", async () => {
    const portal = await start();
    const { after } = await receive(portal, [
      { url: `${files.url}/missing.png`, name: "m.png", type: "image/png" },
    ]);
    expect(after.files[0]).toMatchObject({
      status: "failed",
      reason: "The platform answered 404 for the file link.",
    });
  });

  it("refuses links to loopback addresses when private addresses are not allowed, by IP or by name", async () => {
    const portal = await start({ allowPrivateAddresses: false });
    const port = new URL(files.url).port;
    const { after } = await receive(portal, [
      { url: `${files.url}/photo.png`, name: "ip.png", type: "image/png" },
      { url: `http://localhost:${port}/photo.png`, name: "name.png", type: "image/png" },
    ]);
    expect(after.files.map((f) => f.status)).toEqual(["failed", "failed"]);
    for (const f of after.files) expect(f.reason).toMatch(/private or loopback address/);
  });

  it("refuses an upload past its byte limit while streaming, and stores nothing", async () => {
    const portal = await start();
    const before = await portal.ctx.database.db.selectFrom("file").select("id").execute();
    await expect(
      portal.ctx.services.files.storeUpload(
        Readable.from([Buffer.alloc(600), Buffer.alloc(600)]),
        "x.bin",
        "application/pdf",
        {
          maxBytes: 1000,
        },
      ),
    ).rejects.toMatchObject({ code: "BODY_TOO_LARGE" });
    expect(await portal.ctx.database.db.selectFrom("file").select("id").execute()).toHaveLength(
      before.length,
    );
  });

  it("serves an operator's upload through an unguessable public link until it is revoked (410) or expires", async () => {
    const portal = await start();
    const id = await portal.ctx.services.files.storeUpload(
      Buffer.from("hello file"),
      "hello.txt",
      "text/plain",
    );
    const link = await portal.ctx.services.files.publicLink(id, 60_000);
    const path = new URL(link.url).pathname;
    const ok = await portal.app.inject({ method: "GET", url: path });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe("hello file");
    expect(ok.headers["content-type"]).toBe("text/plain");
    expect(ok.headers["content-disposition"]).toMatch(/^attachment; filename="hello.txt"/);
    expect(ok.headers["content-security-policy"]).toMatch(/sandbox/);
    const unknown = await portal.app.inject({ method: "GET", url: `/files/public/${"A".repeat(43)}` });
    expect(unknown.statusCode).toBe(404);
    await portal.ctx.services.files.revoke(link.id);
    const revoked = await portal.app.inject({ method: "GET", url: path });
    expect(revoked.statusCode).toBe(410);
    const other = await portal.ctx.services.files.publicLink(id, 60_000);
    clock.advance(60_001);
    expect((await portal.app.inject({ method: "GET", url: new URL(other.url).pathname })).statusCode).toBe(
      410,
    );
  });
});

it("classifies private, loopback, link-local and mapped addresses as private", () => {
  for (const ip of [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "::1",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "0.0.0.0",
  ]) {
    expect(isPrivateAddress(ip), ip).toBe(true);
  }
  for (const ip of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
    expect(isPrivateAddress(ip), ip).toBe(false);
});
