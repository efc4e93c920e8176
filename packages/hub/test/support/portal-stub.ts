import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type DeliveryRequest, signedHeaders, verifySignature } from "@openlines/protocol";

/**
 * A real local portal for hub tests: an HTTP server on 127.0.0.1 port 0 that serves
 * `POST /connector/input`, checks the Standard Webhooks signature with the portal's secret (an
 * unsigned or wrongly signed request gets 401 and is counted in `rejected`, never in `requests`),
 * records every batch, and answers as the test says. By default it takes every packet.
 */
export interface StubAnswer {
  status?: number;
  /** JSON body; default `{taken: <every id of the batch>}`. */
  body?: unknown;
  /** Raw body instead of JSON. */
  raw?: string;
  /** Sign the answer with the portal secret (true), with a wrong secret ("bad"), or not (default). */
  sign?: boolean | "bad";
  /** Never answer (until the stub closes). */
  hang?: boolean;
  /** Answer after this many real milliseconds (the portal's own latency). */
  delayMs?: number;
}

export interface StubRequest {
  body: DeliveryRequest;
  ids: string[];
  /** The lines whose packets the request carries, in order (one request may carry several). */
  lines: string[];
  /** The request's line when it carries one line only (`body.line`), else "". */
  line: string;
}

export interface PortalStubOptions {
  secret: string;
  /** The portal's clock for the signature window: pass the test's ManualClock `now`. */
  now?: () => number;
  answer?: (req: StubRequest) => StubAnswer | Promise<StubAnswer>;
}

export interface PortalStub {
  readonly url: string;
  readonly requests: StubRequest[];
  /** Requests refused for their signature. */
  rejected: number;
  /** The most requests of one line that were open at the same time. */
  readonly maxParallelPerLine: Map<string, number>;
  answer: (req: StubRequest) => StubAnswer | Promise<StubAnswer>;
  /** Every packet id received, in arrival order (duplicates included). */
  ids(): string[];
  /** Resolves as soon as `check()` holds, re-checked after every request; rejects after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const WRONG_SECRET = "whsec_d3JvbmctYnV0LXZhbGlkLXNlY3JldC0xMjM0NTY3OA==";

export async function startPortalStub(o: PortalStubOptions): Promise<PortalStub> {
  const now = o.now ?? Date.now;
  const open = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of [...waiters]) w();
  };

  const stub: PortalStub = {
    url: "",
    requests: [],
    rejected: 0,
    maxParallelPerLine: new Map(),
    answer: o.answer ?? ((req) => ({ body: { taken: req.ids } })),
    ids: () => stub.requests.flatMap((r) => r.ids),
    waitFor(check, timeoutMs = 20_000) {
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          if (!check()) return;
          clearTimeout(t);
          waiters.delete(done);
          resolve();
        };
        const t = setTimeout(() => {
          waiters.delete(done);
          reject(new Error(`portal stub: condition not met within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(done);
        done();
      });
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    if (req.method !== "POST" || req.url !== "/connector/input") {
      res.writeHead(404).end();
      return;
    }
    try {
      await verifySignature({ secrets: o.secret, headers: req.headers, rawBody: raw, now: now() });
    } catch {
      stub.rejected++;
      res
        .writeHead(401, { "content-type": "application/json" })
        .end('{"error":{"code":"SIGNATURE_MISMATCH"}}');
      notify();
      return;
    }
    const body = JSON.parse(raw) as DeliveryRequest;
    const lines = [...new Set(body.packets.map((p) => p.line))];
    const r: StubRequest = { body, ids: body.packets.map((p) => p.id), lines, line: body.line ?? "" };
    for (const line of lines) {
      const parallel = (open.get(line) ?? 0) + 1;
      open.set(line, parallel);
      stub.maxParallelPerLine.set(line, Math.max(stub.maxParallelPerLine.get(line) ?? 0, parallel));
    }
    stub.requests.push(r);
    notify();
    let hung = false;
    try {
      const a = await stub.answer(r);
      if (a.hang) {
        hung = true;
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        notify();
        return;
      }
      if (a.delayMs) await new Promise((d) => setTimeout(d, a.delayMs));
      const text = a.raw ?? JSON.stringify(a.body ?? { taken: r.ids });
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (a.sign)
        Object.assign(headers, signedHeaders(a.sign === "bad" ? WRONG_SECRET : o.secret, text, now()));
      res.writeHead(a.status ?? 200, headers).end(text);
    } finally {
      if (!hung) for (const line of lines) open.set(line, (open.get(line) ?? 1) - 1);
      notify();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  (stub as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return stub;
}
