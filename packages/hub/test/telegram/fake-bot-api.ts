import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local imitation of the Telegram Bot API (channels.md §2) on 127.0.0.1: `/bot<token>/<method>`
 * with Telegram's answer shapes, `/file/bot<token>/<path>` downloads, token checks, a record of
 * every call, and scripted failures for the next call. HTML texts are checked the way Telegram
 * does (allowed tags only, balanced, entities escaped, length after parsing), so a connector that
 * sends invalid HTML gets Telegram's 400.
 */
export interface FakeCall {
  method: string;
  token: string;
  params: Record<string, any>;
  /** What the fake answered: `result` of an ok answer, or the error. */
  answer?: unknown;
}
export interface FakeFile {
  file_path: string;
  content: Buffer;
  type: string;
}
export interface TelegramFailure {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

export const BOT = { id: 7000000001, is_bot: true, first_name: "Help", username: "help_bot" };
export const TOKEN = `${BOT.id}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw`;

const messageMethods = new Set([
  "sendMessage",
  "sendPhoto",
  "sendDocument",
  "sendVideo",
  "sendAudio",
  "sendMediaGroup",
]);

export class FakeBotApi {
  readonly calls: FakeCall[] = [];
  readonly downloads: string[] = [];
  readonly tokens = new Set<string>([TOKEN]);
  readonly files = new Map<string, FakeFile>();
  webhook: { url: string; secret_token?: string; allowed_updates?: string[] } = { url: "" };
  #failures: { method?: string; failure: TelegramFailure }[] = [];
  #nextMessageId = 100;
  #server: Server;
  url = "";

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e) => {
        res.writeHead(500).end(String(e));
      });
    });
  }

  static async start(): Promise<FakeBotApi> {
    const fake = new FakeBotApi();
    await new Promise<void>((resolve) => fake.#server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The next call (of `method`, or any) answers with this Telegram error. */
  failNext(failure: TelegramFailure, method?: string): void {
    this.#failures.push({ method, failure });
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  addFile(fileId: string, file: FakeFile): void {
    this.files.set(fileId, file);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file) {
      const [, token, path] = file;
      const found = [...this.files.values()].find((f) => f.file_path === decodeURIComponent(path));
      if (!this.tokens.has(token) || !found) return void res.writeHead(404).end("Not Found");
      this.downloads.push(found.file_path);
      res.writeHead(200, { "content-type": found.type, "content-length": found.content.length });
      return void res.end(found.content);
    }
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    if (!m) return this.#reply(res, { error_code: 404, description: "Not Found" });
    const [, token, method] = m;
    const params = await readParams(req, url);
    if (!this.tokens.has(token)) return this.#reply(res, { error_code: 401, description: "Unauthorized" });
    const call: FakeCall = { method, token, params };
    this.calls.push(call);
    const at = this.#failures.findIndex((f) => !f.method || f.method === method);
    if (at >= 0) {
      const [{ failure }] = this.#failures.splice(at, 1);
      call.answer = failure;
      return this.#reply(res, failure);
    }
    const answer = this.#method(method, params);
    call.answer = "error_code" in answer ? answer : answer.result;
    if ("error_code" in answer) return this.#reply(res, answer);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, result: answer.result }));
  }

  #reply(res: ServerResponse, f: TelegramFailure): void {
    res.writeHead(f.error_code, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: false, ...f }));
  }

  #method(method: string, p: Record<string, any>): { result: unknown } | TelegramFailure {
    const bad = (description: string) => ({ error_code: 400, description: `Bad Request: ${description}` });
    switch (method) {
      case "getMe":
        return { result: { ...BOT, can_join_groups: true, can_read_all_group_messages: false } };
      case "setWebhook":
        if (!p.url) return bad("bad webhook: an HTTPS URL must be provided for webhook");
        if (p.secret_token !== undefined && !/^[A-Za-z0-9_-]{1,256}$/.test(p.secret_token))
          return bad("secret token contains unallowed characters");
        this.webhook = { url: p.url, secret_token: p.secret_token, allowed_updates: p.allowed_updates };
        return { result: true };
      case "deleteWebhook":
        this.webhook = { url: "" };
        return { result: true };
      case "getWebhookInfo":
        return {
          result: {
            url: this.webhook.url,
            has_custom_certificate: false,
            pending_update_count: 0,
            max_connections: 40,
            ...(this.webhook.allowed_updates ? { allowed_updates: this.webhook.allowed_updates } : {}),
          },
        };
      case "getFile": {
        const f = this.files.get(p.file_id);
        if (!f) return bad("invalid file_id");
        return {
          result: {
            file_id: p.file_id,
            file_unique_id: `u-${p.file_id}`,
            file_size: f.content.length,
            file_path: f.file_path,
          },
        };
      }
      case "sendChatAction":
        return p.chat_id && p.action ? { result: true } : bad("chat_id is empty");
      case "deleteMessage":
        return p.chat_id && p.message_id ? { result: true } : bad("message to delete not found");
      case "editMessageText":
      case "editMessageCaption": {
        const field = method === "editMessageText" ? "text" : "caption";
        const error = checkText(p[field], p.parse_mode, field === "text" ? 4096 : 1024, field === "text");
        if (error) return bad(error);
        return {
          result: { message_id: p.message_id, chat: { id: p.chat_id, type: "private" }, date: now() },
        };
      }
      case "sendMediaGroup": {
        if (!Array.isArray(p.media) || p.media.length < 2 || p.media.length > 10)
          return bad("media must include 2-10 items");
        for (const item of p.media) {
          if (!["photo", "video", "audio", "document"].includes(item.type) || !item.media)
            return bad("wrong media in the group");
          if (item.caption !== undefined) {
            const error = checkText(item.caption, item.parse_mode, 1024, false);
            if (error) return bad(error);
          }
        }
        return { result: p.media.map((item: any) => this.#message(p, { [item.type]: item.media })) };
      }
    }
    if (messageMethods.has(method)) {
      if (!p.chat_id) return bad("chat_id is empty");
      if (method === "sendMessage") {
        const error = checkText(p.text, p.parse_mode, 4096, true);
        if (error) return bad(error);
        return { result: this.#message(p, { text: p.text }) };
      }
      const field = method.slice(4).toLowerCase();
      if (!p[field]) return bad(`there is no ${field} in the request`);
      if (p.caption !== undefined) {
        const error = checkText(p.caption, p.parse_mode, 1024, false);
        if (error) return bad(error);
      }
      return { result: this.#message(p, { [field]: p[field] }) };
    }
    return { error_code: 404, description: "Not Found: method not found" };
  }

  #message(p: Record<string, any>, content: Record<string, unknown>) {
    return {
      message_id: this.#nextMessageId++,
      from: BOT,
      chat: { id: p.chat_id, type: "private" },
      date: now(),
      ...content,
    };
  }
}

const now = () => Math.floor(Date.now() / 1000);

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  const params: Record<string, any> = Object.fromEntries(url.searchParams);
  const type = req.headers["content-type"] ?? "";
  if (body && type.includes("json")) Object.assign(params, JSON.parse(body));
  else if (body && type.includes("x-www-form-urlencoded"))
    Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
  return params;
}

const allowedTags = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "span",
  "tg-spoiler",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-emoji",
]);

/**
 * Parses Telegram HTML as the Bot API does, strictly: returns the visible text, or throws with
 * Telegram's "can't parse entities" wording for an unknown tag, an unclosed or crossed tag, or a
 * bare `<`/`&`.
 */
export function parseTelegramHtml(html: string): string {
  const fail = (why: string, at: number): never => {
    throw new Error(`can't parse entities: ${why} at byte offset ${at}`);
  };
  const stack: string[] = [];
  let text = "";
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    if (c === "<") {
      const m = /^<(\/?)([a-z-]+)((?:\s+[a-z-]+(?:="[^"<>]*")?)*)\s*>/.exec(html.slice(i));
      if (!m) fail("unsupported start tag or bare <", i);
      const [whole, closing, name, attrs] = m!;
      if (!allowedTags.has(name)) fail(`unsupported start tag "${name}"`, i);
      if (closing) {
        if (stack.pop() !== name) fail(`can't find end tag corresponding to start tag "${name}"`, i);
      } else {
        if (name === "span" && !/class="tg-spoiler"/.test(attrs))
          fail('span must have class "tg-spoiler"', i);
        if (name === "a" && !/href="[^"]+"/.test(attrs)) fail("a tag without href", i);
        if (name === "blockquote" && stack.includes("blockquote")) fail("nested blockquote", i);
        if ((stack.includes("code") || stack.includes("pre")) && name !== "code")
          fail("tags inside pre/code are not allowed", i);
        stack.push(name);
      }
      i += whole.length;
    } else if (c === "&") {
      const m = /^&(amp|lt|gt|quot|#\d+|#x[0-9a-f]+);/i.exec(html.slice(i));
      if (!m) fail("bare & or unknown entity", i);
      const name = m![1];
      text += name === "amp" ? "&" : name === "lt" ? "<" : name === "gt" ? ">" : name === "quot" ? '"' : "?";
      i += m![0].length;
    } else if (c === ">") {
      fail("bare >", i);
    } else {
      text += c;
      i++;
    }
  }
  if (stack.length > 0) fail(`unclosed start tag "${stack[stack.length - 1]}"`, html.length);
  return text;
}

function checkText(text: unknown, parseMode: unknown, limit: number, required: boolean): string | undefined {
  if (typeof text !== "string" || text.length === 0) return required ? "message text is empty" : undefined;
  let visible = text;
  if (parseMode === "HTML") {
    try {
      visible = parseTelegramHtml(text);
    } catch (e) {
      return (e as Error).message;
    }
  } else if (parseMode !== undefined) {
    return `unsupported parse_mode in this fake: ${String(parseMode)}`;
  }
  if (required && visible.trim() === "") return "message text is empty";
  if (visible.length > limit) return limit === 1024 ? "message caption is too long" : "message is too long";
  return undefined;
}
