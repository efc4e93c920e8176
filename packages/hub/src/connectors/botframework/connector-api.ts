import { PlatformError } from "../contract.js";
import type { AppToken } from "./auth/app-token.js";

/**
 * The Bot Connector REST API v3 at a conversation's serviceUrl, with the bot's token. A 401
 * renews the token once and repeats the call; 429 and 5xx are retryable PlatformErrors carrying
 * Retry-After; other refusals say in an operator's words what happened. Tokens never reach an
 * error message.
 */
export class ConnectorApi {
  readonly #token: AppToken;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  constructor(o: { token: AppToken; fetch: typeof fetch; now: () => number }) {
    this.#token = o.token;
    this.#fetch = o.fetch;
    this.#now = o.now;
  }

  async call<T = unknown>(method: "POST" | "PUT" | "DELETE", url: string, body?: unknown): Promise<T> {
    const used = await this.#token.get();
    let res = await this.#send(method, url, body, used);
    if (res.status === 401) {
      // Renewed once: a second 401 means the credentials, not an expired token.
      await res.body?.cancel();
      this.#token.invalidate(used);
      res = await this.#send(method, url, body, await this.#token.get());
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.ok) return json as T;
    throw connectorError(res, json, this.#now());
  }

  /** GET with the bot's token, for attachments the Bot Connector stores; the body is streamed. */
  async download(url: string): Promise<Response> {
    const go = async (token: string) =>
      this.#fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch((e) => {
        throw new PlatformError("the Bot Connector could not be reached for the file", {
          retryable: true,
          cause: new Error(e instanceof Error ? e.message : String(e)),
        });
      });
    const used = await this.#token.get();
    let res = await go(used);
    if (res.status === 401) {
      await res.body?.cancel();
      this.#token.invalidate(used);
      res = await go(await this.#token.get());
    }
    return res;
  }

  async #send(method: string, url: string, body: unknown, token: string): Promise<Response> {
    try {
      return await this.#fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new PlatformError("the Bot Connector service could not be reached", {
        retryable: true,
        cause: new Error(e instanceof Error ? e.message : String(e)),
      });
    }
  }
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from now. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function connectorError(res: Response, json: any, now: number): PlatformError {
  const status = res.status;
  const code: string | undefined = json?.error?.code;
  const detail: string | undefined = json?.error?.message;
  const o = { platformStatus: status, platformCode: code ?? String(status) };
  const said = detail ? `: ${detail.slice(0, 300)}` : "";
  if (status === 429)
    return new PlatformError(`the channel is throttling the bot${said}`, {
      ...o,
      retryable: true,
      retryAfterMs: retryAfterMs(res.headers.get("retry-after"), now),
    });
  if (status >= 500)
    return new PlatformError(`the Bot Connector service failed (HTTP ${status})${said}`, {
      ...o,
      retryable: true,
      retryAfterMs: retryAfterMs(res.headers.get("retry-after"), now),
    });
  if (status === 401)
    return new PlatformError("the Bot Connector refused the bot's token: check the App ID and App secret", {
      ...o,
      retryable: false,
    });
  if (status === 403)
    return new PlatformError(`the bot may not write to this conversation (blocked or removed)${said}`, {
      ...o,
      retryable: false,
    });
  if (status === 404)
    return new PlatformError(`the conversation or message no longer exists${said}`, {
      ...o,
      retryable: false,
    });
  return new PlatformError(`the Bot Connector refused the message (HTTP ${status})${said}`, {
    ...o,
    retryable: false,
  });
}
