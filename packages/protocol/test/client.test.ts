import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { Calls } from "../src/calls.js";
import {
  cached,
  createRpcClient,
  PORTAL_HEADER,
  postSigned,
  type RpcClient,
  verifyCall,
} from "../src/client.js";
import { ManualClock } from "../src/clock.js";
import { isOpenlinesError, OpenlinesError } from "../src/errors.js";
import { generateSecret, MemorySeenIds, signedHeaders } from "../src/signing.js";

const secret = generateSecret();
const line = { line: "L1", connector: "telegram" };
const okStatus = {
  lines: [
    {
      line: "L1",
      connector: "telegram",
      status: "active",
      queue: { waiting: 0, attempts: 0, blockedUntil: null, firstFailureAt: null, deadLetters: 0 },
    },
  ],
};

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => unknown;
const servers: { close(): Promise<void> }[] = [];

/** A real HTTP server on 127.0.0.1, port 0; it records what it received. */
async function serve(handler: Handler) {
  const received: { url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    received.push({ url: req.url ?? "", headers: req.headers, body });
    await handler(req, body, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  servers.push({ close });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { baseUrl, received, close };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

async function rejection(p: Promise<unknown>): Promise<OpenlinesError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OpenlinesError) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

/** A hub stand-in that verifies each call with verifyCall, as the real hub does. */
async function verifyingHub(answer: (method: string, args: unknown) => unknown) {
  const seen = new MemorySeenIds();
  return serve(async (req, body, res) => {
    try {
      const call = await verifyCall({
        method: (req.url ?? "").replace(/^\/rpc\//, ""),
        headers: req.headers,
        rawBody: body,
        secretsFor: async (id) => (id === "P1" ? [secret] : undefined),
        seen,
        calls: Calls,
      });
      json(res, 200, answer(call.method, call.args));
    } catch (e) {
      const err = e as OpenlinesError;
      json(res, err.status ?? 500, err.toBody());
    }
  });
}

describe("output client against a local HTTP server", () => {
  it("sends a signed POST to /rpc/<method> and returns the parsed result", async () => {
    const hub = await verifyingHub((method, args) => {
      expect(method).toBe("sendMessages");
      return { accepted: (args as { messages: { id: string }[] }).messages.map((m) => m.id) };
    });
    const client = createRpcClient(Calls, { baseUrl: `${hub.baseUrl}/`, portalId: "P1", secret });
    const result = await client.sendMessages({
      ...line,
      messages: [{ id: "m1", chat: { id: "c1" }, text: "hi" }],
    });
    expect(result).toEqual({ accepted: ["m1"] });
    const req = hub.received[0];
    expect(req.url).toBe("/rpc/sendMessages");
    expect(req.headers[PORTAL_HEADER]).toBe("P1");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["webhook-signature"]).toMatch(/^v1,/);
    // Defaults of the args schema are applied before sending.
    expect(JSON.parse(req.body).messages[0].files).toEqual([]);
  });

  it("validates arguments locally and sends nothing when they are wrong", async () => {
    const hub = await verifyingHub(() => ({}));
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    const err = await rejection(client.sendMessages({ ...line, messages: [] }));
    expect(err.code).toBe("VALIDATION_FAILED");
    expect(Array.isArray(err.details)).toBe(true);
    expect(hub.received).toHaveLength(0);
  });

  it("rethrows the remote's error body with its code and status", async () => {
    const hub = await serve((_req, _body, res) =>
      json(res, 409, {
        error: { code: "SETTINGS_MISSING", message: "Save settings first.", details: { a: 1 } },
      }),
    );
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    const err = await rejection(client.activate(line));
    expect(err.code).toBe("SETTINGS_MISSING");
    expect(err.status).toBe(409);
    expect(err.message).toBe("Save settings first.");
    expect(err.details).toEqual({ a: 1 });
  });

  it("keeps an error code newer than this catalogue", async () => {
    const hub = await serve((_req, _body, res) =>
      json(res, 418, { error: { code: "TEAPOT_FULL", message: "x" } }),
    );
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    const err = await rejection(client.activate(line));
    expect(err.code).toBe("TEAPOT_FULL");
    expect(err.status).toBe(418);
  });

  it("reports a 500 with an HTML page as RPC_FAILED with the status", async () => {
    const hub = await serve((_req, _body, res) =>
      res.writeHead(500, { "content-type": "text/html" }).end("<html><body>Internal error</body></html>"),
    );
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    const err = await rejection(client.status({}));
    expect(err.code).toBe("RPC_FAILED");
    expect(err.details).toEqual({ status: 500 });
    expect(err.message).toContain("500");
  });

  it("times out a server that never answers with RPC_TIMEOUT", async () => {
    const hub = await serve(() => {
      /* never answers */
    });
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret, timeoutMs: 50 });
    const err = await rejection(client.status({}));
    expect(err.code).toBe("RPC_TIMEOUT");
  });

  it("times out a server that sends headers but never finishes the body", async () => {
    const hub = await serve((_req, _body, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"lines":');
    });
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret, timeoutMs: 50 });
    expect((await rejection(client.status({}))).code).toBe("RPC_TIMEOUT");
  });

  it("reports a 2xx body that is not JSON as RPC_BAD_RESPONSE", async () => {
    const hub = await serve((_req, _body, res) => res.writeHead(200).end("{not json"));
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    expect((await rejection(client.status({}))).code).toBe("RPC_BAD_RESPONSE");
  });

  it("reports a result that fails the schema as RPC_BAD_RESPONSE with the issues", async () => {
    const hub = await serve((_req, _body, res) => json(res, 200, { lines: [{ line: "L1" }] }));
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    const err = await rejection(client.status({}));
    expect(err.code).toBe("RPC_BAD_RESPONSE");
    expect(Array.isArray(err.details)).toBe(true);
  });

  it("reports a refused connection as RPC_UNREACHABLE", async () => {
    const hub = await serve(() => {});
    await hub.close();
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    const err = await rejection(client.status({}));
    expect(err.code).toBe("RPC_UNREACHABLE");
    expect(err.cause).toBeDefined();
  });

  it("calls a method the table does not know, unchecked, through call()", async () => {
    const hub = await serve((req, body, res) => json(res, 200, { echo: JSON.parse(body), url: req.url }));
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    expect(await client.call("brandNewMethod", { x: 1 })).toEqual({
      echo: { x: 1 },
      url: "/rpc/brandNewMethod",
    });
    // An untyped property access goes through the same proxy.
    const loose = client as unknown as Record<string, (a: unknown) => Promise<unknown>>;
    expect(await loose.otherMethod({})).toEqual({ echo: {}, url: "/rpc/otherMethod" });
  });

  it("refuses a method name that cannot be a path segment, before sending", async () => {
    const hub = await serve((_req, _body, res) => json(res, 200, {}));
    const client = createRpcClient(Calls, { baseUrl: hub.baseUrl, portalId: "P1", secret });
    expect((await rejection(client.call("../admin", {}))).code).toBe("METHOD_UNKNOWN");
    expect(hub.received).toHaveLength(0);
  });

  it("is not a thenable, so it can be awaited and returned from async functions", async () => {
    const client = createRpcClient(Calls, { baseUrl: "http://127.0.0.1:9", portalId: "P1", secret });
    expect(await Promise.resolve(client)).toBe(client);
    expect(client.status).toBe(client.status);
  });

  it("sends extra headers, signs with the injected clock and uses the injected fetch", async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fakeFetch: typeof fetch = async (url, init) => {
      seen.push({ url: String(url), init: init ?? {} });
      return new Response(JSON.stringify({ acknowledged: 2 }), { status: 200 });
    };
    const client = createRpcClient(Calls, {
      baseUrl: "http://hub.test",
      portalId: "P1",
      secret,
      fetch: fakeFetch,
      now: () => 1_700_000_000_000,
      headers: { "x-trace": "t1" },
    });
    expect(await client.ack({ ids: ["a", "b"] })).toEqual({ acknowledged: 2 });
    await expect(client.connectors()).rejects.toThrow(OpenlinesError);
    expect(JSON.parse(String(seen[1].init.body))).toEqual({});
    const headers = seen[0].init.headers as Record<string, string>;
    expect(seen[0].url).toBe("http://hub.test/rpc/ack");
    expect(headers["x-trace"]).toBe("t1");
    expect(headers["webhook-timestamp"]).toBe("1700000000");
  });
});

describe("cached wrapper", () => {
  it("reuses an answer within its time to live and asks again after it", async () => {
    const hub = await serve((_req, _body, res) => json(res, 200, okStatus));
    const clock = new ManualClock();
    const statusCache = cached({ ttlMs: 5_000, clock });
    const client = createRpcClient(
      Calls,
      { baseUrl: hub.baseUrl, portalId: "P1", secret },
      { wrap: { status: statusCache } },
    );
    expect(await client.status({})).toEqual(okStatus);
    await client.status({});
    expect(hub.received).toHaveLength(1);
    await client.status({ line: "L1" });
    expect(hub.received).toHaveLength(2);
    clock.advance(5_000);
    await client.status({});
    expect(hub.received).toHaveLength(3);
    statusCache.invalidate();
    await client.status({});
    await client.status({ line: "L1" });
    expect(hub.received).toHaveLength(5);
    statusCache.invalidate("status", {});
    await client.status({ line: "L1" });
    expect(hub.received).toHaveLength(5);
    await client.status({});
    expect(hub.received).toHaveLength(6);
  });

  it("shares one request between concurrent identical calls", async () => {
    const hub = await serve((_req, _body, res) => json(res, 200, okStatus));
    const client = createRpcClient(
      Calls,
      { baseUrl: hub.baseUrl, portalId: "P1", secret },
      { wrap: { status: cached({ ttlMs: 60_000 }) } },
    );
    await Promise.all([client.status({}), client.status({}), client.status({})]);
    expect(hub.received).toHaveLength(1);
  });

  it("does not cache a failure", async () => {
    let fail = true;
    const hub = await serve((_req, _body, res) =>
      fail ? json(res, 503, { error: { code: "INTERNAL", message: "x" } }) : json(res, 200, okStatus),
    );
    const client = createRpcClient(
      Calls,
      { baseUrl: hub.baseUrl, portalId: "P1", secret },
      { wrap: { status: cached({ ttlMs: 60_000 }) } },
    );
    await expect(client.status({})).rejects.toThrow(OpenlinesError);
    fail = false;
    expect(await client.status({})).toEqual(okStatus);
    expect(hub.received).toHaveLength(2);
  });
});

describe("postSigned", () => {
  it("returns any status with the text, the parsed JSON and the headers", async () => {
    const hub = await serve((_req, _body, res) =>
      res.writeHead(422, { "content-type": "application/json", "x-a": "1" }).end('{"taken":[]}'),
    );
    const answer = await postSigned(`${hub.baseUrl}/openlines/input`, '{"packets":[]}', { secret });
    expect(answer.status).toBe(422);
    expect(answer.json).toEqual({ taken: [] });
    expect(answer.text).toBe('{"taken":[]}');
    expect(answer.headers["x-a"]).toBe("1");
    expect(hub.received[0].body).toBe('{"packets":[]}');
  });

  it("maps a refused connection and a timeout to RPC codes", async () => {
    const slow = await serve(() => {});
    expect((await rejection(postSigned(slow.baseUrl, "{}", { secret, timeoutMs: 30 }))).code).toBe(
      "RPC_TIMEOUT",
    );
    await slow.close();
    expect((await rejection(postSigned(slow.baseUrl, "{}", { secret }))).code).toBe("RPC_UNREACHABLE");
  });
});

describe("verifyCall", () => {
  const now = 1_700_000_000_000;
  const calls = Calls;
  const signedCall = async (_method: string, body: string): Promise<Record<string, string>> => ({
    ...signedHeaders(secret, body, now),
    [PORTAL_HEADER]: "P1",
  });
  const base = { secretsFor: (id: string) => (id === "P1" ? [secret] : undefined), now, calls };

  it("returns the portal, method and parsed arguments of a good call", async () => {
    const body = JSON.stringify({ ...line, chat: { id: "c1" } });
    const headers = await signedCall("markRead", body);
    const call = await verifyCall({ ...base, method: "markRead", headers, rawBody: body });
    expect(call.portalId).toBe("P1");
    expect(call.method).toBe("markRead");
    expect(call.args).toEqual({ ...line, chat: { id: "c1" }, platformMessageIds: [] });
    expect(call.requestId).toBe(headers["webhook-id"]);
  });

  it("refuses a missing or unknown portal header with PORTAL_UNKNOWN", async () => {
    const body = "{}";
    const headers = await signedCall("status", body);
    const { [PORTAL_HEADER]: _, ...without } = headers;
    for (const h of [without, { ...headers, [PORTAL_HEADER]: "P2" }]) {
      const err = await rejection(verifyCall({ ...base, method: "status", headers: h, rawBody: body }));
      expect(err.code).toBe("PORTAL_UNKNOWN");
    }
  });

  it("refuses a bad signature before looking at the method or the body", async () => {
    const headers = await signedCall("status", "{}");
    const err = await rejection(verifyCall({ ...base, method: "nope", headers, rawBody: "{ }" }));
    expect(err.code).toBe("SIGNATURE_MISMATCH");
  });

  it("refuses a replayed request id", async () => {
    const seen = new MemorySeenIds(() => now);
    const headers = await signedCall("status", "{}");
    await verifyCall({ ...base, seen, method: "status", headers, rawBody: "{}" });
    const err = await rejection(verifyCall({ ...base, seen, method: "status", headers, rawBody: "{}" }));
    expect(err.code).toBe("SIGNATURE_REPLAYED");
  });

  it("refuses a signed body that is not JSON with BODY_NOT_JSON", async () => {
    const headers = { ...signedHeaders(secret, "{oops", now), [PORTAL_HEADER]: "P1" };
    const err = await rejection(verifyCall({ ...base, method: "status", headers, rawBody: "{oops" }));
    expect(err.code).toBe("BODY_NOT_JSON");
  });

  it("refuses a method outside the table with METHOD_UNKNOWN, prototype names included", async () => {
    for (const method of ["fly", "toString", "__proto__", "constructor"]) {
      const headers = await signedCall("status", "{}");
      const err = await rejection(verifyCall({ ...base, method, headers, rawBody: "{}" }));
      expect(err.code).toBe("METHOD_UNKNOWN");
    }
  });

  it("refuses arguments that fail the schema with VALIDATION_FAILED and the zod issues", async () => {
    const body = JSON.stringify({ line: "L1" });
    const headers = await signedCall("activate", body);
    const err = await rejection(verifyCall({ ...base, method: "activate", headers, rawBody: body }));
    expect(err.code).toBe("VALIDATION_FAILED");
    expect((err.details as { path: unknown[] }[]).some((i) => i.path[0] === "connector")).toBe(true);
    expect(isOpenlinesError(err, "VALIDATION_FAILED")).toBe(true);
  });

  it("accepts a call signed with either secret during a rotation", async () => {
    const newer = generateSecret();
    const body = "{}";
    const headers = await signedCall("status", body);
    const call = await verifyCall({
      ...base,
      secretsFor: () => [newer, secret],
      method: "status",
      headers,
      rawBody: body,
    });
    expect(call.method).toBe("status");
  });
});

describe("output client types", () => {
  it("exposes exactly the table's methods with their argument and result types", () => {
    const client = createRpcClient(Calls, { baseUrl: "http://127.0.0.1:9", portalId: "P1", secret });
    expectTypeOf(client.ack).parameter(0).toEqualTypeOf<{ ids: string[] }>();
    expectTypeOf(client.ack).returns.resolves.toEqualTypeOf<{ acknowledged: number }>();
    expectTypeOf(client.call).returns.resolves.toBeUnknown();
    // A method whose arguments are all optional may be called without them.
    expectTypeOf(client.connectors).toBeCallableWith();
    expectTypeOf(client.status).toBeCallableWith({ line: "L1" });
    const small = { ping: { args: z.object({ n: z.number() }), result: z.object({ pong: z.number() }) } };
    expectTypeOf<keyof RpcClient<typeof small>>().toEqualTypeOf<"ping" | "call">();
    // Compile-time only: these lines fail `tsc` if typos or wrong arguments were accepted.
    const typoChecks = (c: typeof client) => {
      // @ts-expect-error a typo in a method name does not compile
      void c.sendMesages;
      // @ts-expect-error wrong argument type
      void c.ack({ ids: "a" });
      // @ts-expect-error missing required argument
      void c.activate({ line: "L1" });
      // @ts-expect-error arguments are required when the schema has required fields
      void c.ack();
    };
    expect(typeof typoChecks).toBe("function");
  });
});
