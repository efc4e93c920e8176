import { PlatformError } from "../contract.js";
import { type GraphErrorBody, graphError } from "./errors.js";

export const DEFAULT_GRAPH_URL = "https://graph.facebook.com";
export const DEFAULT_GRAPH_VERSION = "v21.0";

export interface GraphOptions {
  /** `https://graph.facebook.com`, or a test fake. */
  baseUrl: string;
  /** `v21.0`: the Graph API version, a setting so a line can move forward on its own. */
  version: string;
  token: string;
  fetch: typeof fetch;
}

/**
 * A thin Graph API client for the three Meta connectors: `get`/`post` under `<base>/<version>/`,
 * the token in `Authorization: Bearer` (never in a URL, so never in a log line), answers parsed
 * as JSON and errors turned into PlatformErrors that say whether to retry.
 */
export class GraphApi {
  readonly #o: GraphOptions;

  constructor(o: GraphOptions) {
    this.#o = { ...o, baseUrl: o.baseUrl.replace(/\/+$/, ""), version: o.version.replace(/^\/+|\/+$/g, "") };
  }

  url(path: string, query?: Record<string, string>): string {
    const q = query ? `?${new URLSearchParams(query)}` : "";
    return `${this.#o.baseUrl}/${this.#o.version}/${path.replace(/^\/+/, "")}${q}`;
  }

  get<T = unknown>(path: string, query?: Record<string, string>, o: { timeoutMs?: number } = {}): Promise<T> {
    return this.#call<T>("GET", path, query, undefined, o.timeoutMs);
  }

  post<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.#call<T>("POST", path, undefined, body);
  }

  /** Fetches an absolute URL Graph gave us (a media URL) with the token; the caller streams the body. */
  async download(url: string): Promise<Response> {
    try {
      return await this.#o.fetch(url, { headers: { authorization: `Bearer ${this.#o.token}` } });
    } catch (e) {
      throw new PlatformError("Meta could not be reached (media download)", {
        retryable: true,
        cause: this.#redact(e),
      });
    }
  }

  async #call<T>(
    method: "GET" | "POST",
    path: string,
    query: Record<string, string> | undefined,
    body: unknown,
    timeoutMs?: number,
  ): Promise<T> {
    const what = `${method} ${path.split("?")[0]}`;
    let res: Response;
    try {
      res = await this.#o.fetch(this.url(path, query), {
        method,
        headers: {
          authorization: `Bearer ${this.#o.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
      });
    } catch (e) {
      throw new PlatformError(`Meta could not be reached (${what})`, {
        retryable: true,
        cause: this.#redact(e),
      });
    }
    let answer: unknown;
    try {
      answer = await res.json();
    } catch {
      answer = undefined;
    }
    const error = (answer as { error?: GraphErrorBody } | undefined)?.error;
    if (res.ok && answer !== undefined && !error) return answer as T;
    throw graphError(what, res.status, error);
  }

  #redact(e: unknown): Error {
    const text =
      e instanceof Error ? `${e.message} ${e.cause instanceof Error ? e.cause.message : ""}` : String(e);
    return new Error(text.replaceAll(this.#o.token, "<token>").trim());
  }
}
