import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OpenlinesError } from "@openlines/protocol";
import { z } from "zod";
import { type ConnectorDefinition, PlatformError } from "../../src/connectors/contract.js";

/**
 * `echo`: a tiny sample connector that exercises the whole framework against a local fake
 * platform (`EchoPlatform`). Webhooks are signed with `x-echo-signature: hex HMAC-SHA256(secret, body)`;
 * a GET with `?challenge=` is a handshake echoed back.
 */
export const echoSettings = z.object({ token: z.string().min(8), secret: z.string().min(8) });
export type EchoSettings = z.infer<typeof echoSettings>;

export function echoSign(secret: string, body: string | Buffer): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

export const echoConnector: ConnectorDefinition<EchoSettings> = {
  type: "echo",
  title: "Echo (test connector)",
  settings: echoSettings,
  capabilities: {
    edit: true,
    delete: false,
    typing: true,
    readReceipts: true,
    deliveryReceipts: false,
    groupChats: false,
    files: { kinds: ["image", "document"], maxSizeBytes: 1024 * 1024, maxCount: 2 },
    textMaxLength: 100,
    formatting: ["bold"],
    replyWindowHours: null,
    templates: false,
  },
  virtual: {
    "echo.window": {
      title: "Echo with a 24 h reply window",
      capabilities: {
        edit: false,
        delete: false,
        typing: false,
        readReceipts: false,
        deliveryReceipts: false,
        groupChats: false,
        files: { kinds: [], maxSizeBytes: 0, maxCount: 0 },
        textMaxLength: 1000,
        formatting: [],
        replyWindowHours: 24,
        templates: false,
      },
    },
  },
  emoticons: { "(smile)": "🙂", ":-)": "🙂" },
  baseUrls: { api: "http://127.0.0.1:9" },
  rateLimits: { perLine: { perSecond: 1000, burst: 1000 } },
  create(ctx) {
    const api = () => `${ctx.baseUrl("api")}/bot${ctx.settings.token}`;
    const call = async (path: string, body?: unknown) => {
      const res = await ctx.fetch(`${api()}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json().catch(() => ({}))) as any;
      if (res.ok) return json;
      if (res.status === 401)
        throw new PlatformError("The bot token was rejected.", { retryable: false, platformStatus: 401 });
      if (res.status === 403)
        throw new PlatformError("The customer blocked the bot.", { retryable: false, platformStatus: 403 });
      if (res.status === 429)
        throw new PlatformError("The channel asks to slow down.", {
          retryable: true,
          retryAfterMs: (json.retry_after ?? 1) * 1000,
          platformStatus: 429,
        });
      throw new PlatformError("The channel had an error.", { retryable: true, platformStatus: res.status });
    };
    return {
      async testConnect() {
        const me = await call("/me");
        return { account: { id: String(me.id), name: me.name } };
      },
      async accountId() {
        return String((await call("/me")).id);
      },
      async register() {
        await call("/setWebhook", { url: ctx.line.webhookUrl });
      },
      async unregister() {
        await call("/deleteWebhook", {});
      },
      async verify(req) {
        if (req.method === "GET") return;
        const sig = req.headers["x-echo-signature"];
        if (!sig) throw new OpenlinesError("UNAUTHORIZED", "The x-echo-signature header is missing.");
        const expected = Buffer.from(echoSign(ctx.settings.secret, req.rawBody));
        const given = Buffer.from(sig);
        if (given.length !== expected.length || !timingSafeEqual(given, expected))
          throw new OpenlinesError("FORBIDDEN", "The x-echo-signature does not match.");
      },
      async parse(req) {
        if (req.method === "GET") return { events: [], reply: { body: req.query.challenge ?? "" } };
        const u = req.json as any;
        const files = u.file
          ? [
              {
                url: ctx.fileLink(u.file.id, { name: u.file.name }),
                name: u.file.name,
                type: "image/png",
                kind: "image" as const,
              },
            ]
          : [];
        if (u.context) await ctx.chatContext.set(String(u.chat), u.context);
        return {
          events: [
            {
              type: "messages",
              dedupKey: String(u.update_id),
              connector: u.window ? "echo.window" : undefined,
              data: {
                kind: "new",
                chat: { id: String(u.chat), type: "private" },
                user: { id: String(u.user?.id ?? u.chat), name: u.user?.name },
                message: {
                  id: String(u.message_id ?? u.update_id),
                  date: ctx.clock.now(),
                  text: u.text ?? "",
                  files,
                },
              },
            },
          ],
          reply: { status: 200, body: { ok: true } },
        };
      },
      async send(m) {
        const r = await call("/send", {
          chat: m.chat.id,
          text: m.text,
          files: m.files,
          context: m.chatContext,
        });
        return { platformMessageId: String(r.message_id) };
      },
      async update(m) {
        await call("/edit", { chat: m.chat.id, id: m.platformMessageId, text: m.text });
      },
      async typing(chat) {
        await call("/typing", { chat: chat.id });
      },
      async markRead(chat, ids) {
        await call("/read", { chat: chat.id, ids });
      },
      async resolveFile(ref) {
        return ctx.fetch(`${ctx.baseUrl("api")}/file/bot${ctx.settings.token}/${encodeURIComponent(ref)}`);
      },
      async healthCheck() {
        try {
          await call("/me");
          return { ok: true };
        } catch (e) {
          if (e instanceof PlatformError && e.platformStatus === 401)
            return { ok: false, reason: "The bot token was revoked.", revoked: true };
          throw e;
        }
      },
    };
  },
};

/** A scripted answer of the fake platform to the next call of one path. */
export interface Scripted {
  status: number;
  body?: unknown;
  /** Hold the answer until `release()` is called (a platform that is slow to answer). */
  hold?: boolean;
}

/**
 * The fake echo platform on 127.0.0.1:0. Bots are tokens mapping to an account id; every call is
 * recorded; `script(path, ...answers)` makes the next calls of a path answer as given.
 */
export class EchoPlatform {
  readonly calls: { path: string; token: string; body: any }[] = [];
  readonly bots = new Map<string, { id: string; name: string }>();
  readonly #scripts = new Map<string, Scripted[]>();
  readonly #held: (() => void)[] = [];
  #server: Server | undefined;
  #nextId = 1000;
  url = "";

  addBot(token: string, id: string, name = `bot ${id}`) {
    this.bots.set(token, { id, name });
  }
  script(path: string, ...answers: Scripted[]) {
    this.#scripts.set(path, [...(this.#scripts.get(path) ?? []), ...answers]);
  }
  /** Lets every held answer go. */
  release() {
    for (const r of this.#held.splice(0)) r();
  }
  clearScripts() {
    this.#scripts.clear();
  }
  callsTo(path: string) {
    return this.calls.filter((c) => c.path === path);
  }

  async start(): Promise<string> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }
  async stop() {
    this.release();
    await new Promise((r) => this.#server?.close(r));
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(req.url ?? "");
    if (file) {
      if (!this.bots.has(file[1])) return send(401, { error: "unauthorized" });
      res.writeHead(200, { "content-type": "image/png" });
      return res.end(`file:${decodeURIComponent(file[2])}`);
    }
    const m = /^\/bot([^/]+)(\/[a-zA-Z]+)$/.exec(req.url ?? "");
    if (!m) return send(404, { error: "not found" });
    const [, token, path] = m;
    const body = raw ? JSON.parse(raw) : undefined;
    this.calls.push({ path, token, body });
    const scripted = this.#scripts.get(path)?.shift();
    if (scripted?.hold) await new Promise<void>((r) => this.#held.push(r));
    if (scripted) return send(scripted.status, scripted.body ?? {});
    const bot = this.bots.get(token);
    if (!bot) return send(401, { error: "unauthorized" });
    if (path === "/me") return send(200, bot);
    if (path === "/send") return send(200, { message_id: this.#nextId++ });
    return send(200, { ok: true });
  }
}
