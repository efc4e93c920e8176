import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { signBody } from "../../src/connectors/meta/webhook.js";

/**
 * One local imitation of Meta's Graph API (channels.md §3, §4) for the WhatsApp, Messenger and
 * Instagram tests, on 127.0.0.1: `/<version>/...` paths with the bearer token checked (190 when
 * unknown), Graph's answer and error shapes, the media lookup and its token-guarded download,
 * message templates, a record of every call, and scripted failures for the next call. It also
 * posts webhooks the way Meta does: the raw body signed with the app secret.
 */
export const APP_SECRET = "0123456789abcdef0123456789abcdef";
export const VERIFY_TOKEN = "verify-me-please";
export const PHONE_ID = "106540352242922";
export const WABA_ID = "102290129340398";
export const WA_TOKEN = "EAAwhatsapp-system-user-token-0001";
export const PAGE_ID = "1122334455667";
export const PAGE_TOKEN = "EAApage-access-token-000000000001";
export const IG_ID = "17841400000000001";
export const IG_TOKEN = "EAAinstagram-access-token-0000001";

export interface GraphCall {
  method: string;
  /** Path after the version, e.g. `106540352242922/messages`. */
  path: string;
  version: string;
  query: Record<string, string>;
  body: any;
  token: string;
  answer?: unknown;
}
export interface GraphFailure {
  status: number;
  error: { message: string; type?: string; code: number; error_subcode?: number; fbtrace_id?: string };
}

export class FakeGraph {
  readonly calls: GraphCall[] = [];
  readonly downloads: string[] = [];
  readonly tokens = new Set([WA_TOKEN, PAGE_TOKEN, IG_TOKEN]);
  readonly media = new Map<string, { content: Buffer; type: string }>();
  readonly profiles = new Map<string, Record<string, string>>();
  templates: { name: string; language: string; status: string; components: unknown[] }[] = [
    {
      name: "ticket_update",
      language: "en_US",
      status: "APPROVED",
      components: [{ type: "BODY", text: "Your ticket {{1}} is now {{2}}." }],
    },
    {
      name: "draft_promo",
      language: "en_US",
      status: "REJECTED",
      components: [{ type: "BODY", text: "Sale!" }],
    },
  ];
  #failures: { path?: RegExp; failure: GraphFailure }[] = [];
  #next = 1;
  #server: Server;
  url = "";

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e) => res.writeHead(500).end(String(e)));
    });
  }

  static async start(): Promise<FakeGraph> {
    const fake = new FakeGraph();
    await new Promise<void>((r) => fake.#server.listen(0, "127.0.0.1", r));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** The next call (whose path matches, or any) answers with this Graph error. */
  failNext(failure: GraphFailure, path?: RegExp): void {
    this.#failures.push({ path, failure });
  }

  callsTo(method: string, path: RegExp | string): GraphCall[] {
    return this.calls.filter(
      (c) => c.method === method && (typeof path === "string" ? c.path === path : path.test(c.path)),
    );
  }

  /** Posts a webhook body to `url` exactly as Meta does: these raw bytes, signed with the app secret. */
  static post(url: string, raw: string, o: { signature?: string | null } = {}): Promise<Response> {
    const signature = o.signature === undefined ? signBody(APP_SECRET, raw) : o.signature;
    return fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(signature ? { "x-hub-signature-256": signature } : {}),
      },
      body: raw,
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const download = /^\/media-download\/(.+)$/.exec(url.pathname);
    if (download) {
      const m = this.media.get(decodeURIComponent(download[1]));
      if (token !== WA_TOKEN || !m) return void res.writeHead(404).end();
      this.downloads.push(download[1]);
      res.writeHead(200, { "content-type": m.type, "content-length": m.content.length });
      return void res.end(m.content);
    }
    const p = /^\/(v\d+\.\d+)\/(.+)$/.exec(url.pathname);
    if (!p)
      return this.#error(res, { status: 400, error: { message: "Unknown path components", code: 2500 } });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const call: GraphCall = {
      method: req.method ?? "GET",
      version: p[1],
      path: p[2],
      query: Object.fromEntries(url.searchParams),
      body: raw ? JSON.parse(raw) : undefined,
      token,
    };
    this.calls.push(call);
    if (!this.tokens.has(token))
      return this.#error(res, {
        status: 401,
        error: {
          message: "Error validating access token: Session has expired.",
          type: "OAuthException",
          code: 190,
        },
      });
    const at = this.#failures.findIndex((f) => !f.path || f.path.test(call.path));
    if (at >= 0) {
      const [{ failure }] = this.#failures.splice(at, 1);
      call.answer = failure;
      return this.#error(res, failure);
    }
    const answer = this.#route(call);
    call.answer = answer;
    if ("error" in answer) return this.#error(res, answer as unknown as GraphFailure);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(answer));
  }

  #route(c: GraphCall): Record<string, unknown> {
    const notFound = {
      status: 400,
      error: {
        message: `Unsupported ${c.method} request. Object '${c.path}' does not exist`,
        type: "GraphMethodException",
        code: 100,
        error_subcode: 33,
      },
    };
    if (c.method === "GET") {
      if (c.path === "me" && c.token === PAGE_TOKEN) return { id: PAGE_ID, name: "My Shop" };
      if (c.path === PHONE_ID)
        return { id: PHONE_ID, display_phone_number: "+1 555-000-1111", verified_name: "My Shop" };
      if (c.path === IG_ID) return { id: IG_ID, username: "myshop", name: "My Shop" };
      if (c.path === `${WABA_ID}/message_templates`) return { data: this.templates, paging: { cursors: {} } };
      const m = this.media.get(c.path);
      if (m)
        return {
          messaging_product: "whatsapp",
          url: `${this.url}/media-download/${encodeURIComponent(c.path)}`,
          mime_type: m.type,
          sha256: "x",
          file_size: m.content.length,
          id: c.path,
        };
      const profile = this.profiles.get(c.path);
      if (profile) return { id: c.path, ...profile };
      return notFound;
    }
    if (c.path.endsWith("/subscribed_apps")) return { success: true };
    if (c.path === `${PHONE_ID}/messages`) {
      if (c.body?.messaging_product !== "whatsapp")
        return {
          status: 400,
          error: { message: "(#100) The parameter messaging_product is required.", code: 100 },
        };
      if (c.body.status === "read") return { success: true };
      return {
        messaging_product: "whatsapp",
        contacts: [{ input: c.body.to, wa_id: c.body.to }],
        messages: [{ id: `wamid.OUT${this.#next++}` }],
      };
    }
    if (c.path === "me/messages") {
      if (!c.body?.recipient?.id)
        return { status: 400, error: { message: "(#100) The parameter recipient is required", code: 100 } };
      if (c.body.sender_action) return { recipient_id: c.body.recipient.id };
      return { recipient_id: c.body.recipient.id, message_id: `m_OUT${this.#next++}` };
    }
    return notFound;
  }

  #error(res: ServerResponse, f: GraphFailure): void {
    res.writeHead(f.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { type: "OAuthException", fbtrace_id: "AbCdEf123", ...f.error } }));
  }
}
